//! Every endpoint × every mode × both backends × {match, mismatch, service error, bad input},
//! against the sandbox over loopback.

use crate::fixtures::{Backend, fields, verify};
use juhe_proto::{Field, Product};
use juhe_sandbox::{Sandbox, magic};
use juhe_verify::{Error, Verdict};

#[test]
fn every_endpoint_mode_and_backend() {
    run_matrix(&Sandbox::start().unwrap());
}

/// The same matrix over HTTPS: the sandbox's certificate is trusted through its account.
#[test]
fn every_endpoint_mode_and_backend_over_https() {
    let sandbox = Sandbox::builder().tls().start().unwrap();
    assert!(sandbox.base_url().starts_with("https://"));
    run_matrix(&sandbox);
}

fn run_matrix(sandbox: &Sandbox) {
    let (p, q) = (&sandbox.identities()[0], &sandbox.identities()[1]);
    let mut billed = 0;
    for backend in [Backend::Reqwest, Backend::Ureq] {
        // Every endpoint is one product in one mode: this is every product × mode.
        for endpoint in juhe_proto::Endpoint::ALL {
            let case = format!("{backend:?} {endpoint}");
            assert_eq!(verify(sandbox, backend, endpoint, fields(p)).unwrap(), Verdict::Match, "{case}");
            let other = match endpoint.info().product {
                Product::Telecom2 => {
                    (p.name.as_str(), q.idcard.as_str(), p.mobile.as_str(), &p.face_image[..])
                }
                _ => (q.name.as_str(), p.idcard.as_str(), p.mobile.as_str(), &p.face_image[..]),
            };
            assert_eq!(verify(sandbox, backend, endpoint, other).unwrap(), Verdict::Mismatch, "{case}");
            billed += 2;

            let m = magic::NO_RECORD;
            let error =
                verify(sandbox, backend, endpoint, (m.name, m.idcard, m.mobile, &p.face_image)).unwrap_err();
            let Error::Service(service) = &error else { panic!("{case}: {error}") };
            assert!(!error.may_be_billed());
            assert!(error.to_string().contains(&service.code.code().to_string()), "{case}: {error}");

            // Bad input is refused before anything is sent: the ledger does not move.
            let before = sandbox.ledger().requests;
            let bad =
                verify(sandbox, backend, endpoint, (&p.name, "110105194912310021", "139", &p.face_image));
            let Err(Error::Invalid(invalid)) = bad else { panic!("{case}: {bad:?}") };
            assert!(matches!(invalid.field, Field::IdCard | Field::Mobile), "{case}: {invalid}");
            assert_eq!(sandbox.ledger().requests, before, "{case}: invalid input reached the sandbox");
        }
    }
    let ledger = sandbox.ledger();
    assert_eq!(ledger.billed, billed);
    assert_eq!(ledger.requests, billed + 22, "two billed checks and one refused per endpoint and backend");
}
