//! HTTPS: a certificate the client does not trust, or one for another name, is refused
//! during the handshake, before anything is sent: nothing reaches the sandbox, nothing is
//! billed.

use juhe_sandbox::Sandbox;
use juhe_verify::transport::{Delivery, TransportErrorKind};
use juhe_verify::{ClientBuilder, Error, Telecom3Check};

use crate::fixtures::runtime;

/// Both clients' errors for one check with `settings`.
fn both(settings: ClientBuilder, sandbox: &Sandbox) -> [Error; 2] {
    let p = &sandbox.identities()[0];
    let check = Telecom3Check::new(&p.name, &p.idcard, &p.mobile).unwrap();
    let blocking = settings.clone().build_blocking().unwrap().telecom3(&check).unwrap_err();
    let client = settings.build().unwrap();
    let asynchronous = runtime().block_on(client.telecom3(&check)).unwrap_err();
    [blocking, asynchronous]
}

fn assert_refused_before_sending(errors: [Error; 2], sandbox: &Sandbox) {
    for error in errors {
        let Error::NotSent(transport) = &error else { panic!("{error:?}") };
        assert_eq!(
            (transport.kind(), transport.delivery()),
            (TransportErrorKind::Tls, Delivery::NotSent),
            "{error:?}"
        );
        assert!(!error.may_be_billed());
    }
    let ledger = sandbox.ledger();
    assert_eq!((ledger.requests, ledger.billed), (0, 0), "nothing reached the sandbox");
}

#[test]
fn an_untrusted_certificate_is_refused_before_sending() {
    let sandbox = Sandbox::builder().tls().start().unwrap();
    // The account's credentials, without its CA certificate.
    let settings = ClientBuilder::new().key(sandbox.key()).base_url(sandbox.base_url());
    assert_refused_before_sending(both(settings, &sandbox), &sandbox);
}

#[test]
fn a_certificate_for_another_name_is_refused_before_sending() {
    let sandbox = Sandbox::builder().tls_names(["juhe-sandbox.example"]).start().unwrap();
    let settings = ClientBuilder::new().account(&sandbox.account());
    assert_refused_before_sending(both(settings, &sandbox), &sandbox);
}

#[test]
fn a_file_that_is_no_certificate_is_a_configuration_error() {
    let built = ClientBuilder::new().key("k").add_root_certificate("not a certificate").build_blocking();
    assert!(matches!(built, Err(Error::Config(_))), "{built:?}");
}
