//! The examples of docs/sandbox.md, verbatim, run as tests; and checks that the document
//! still matches them and lists every magic identity.

// --- example: async ---
use juhe_sandbox::Sandbox;
use juhe_verify::{Client, Telecom3Check, Verdict};

#[tokio::test(flavor = "multi_thread")]
async fn onboarding_accepts_a_verified_customer() {
    let sandbox = Sandbox::start().unwrap();
    let person = &sandbox.identities()[0];
    let client = Client::builder().key(sandbox.key()).base_url(sandbox.base_url()).build().unwrap();

    let check = Telecom3Check::new(&person.name, &person.idcard, &person.mobile).unwrap();
    let outcome = client.telecom3(&check).await.unwrap();

    assert_eq!(outcome.verdict, Verdict::Match);
    assert_eq!(sandbox.ledger().billed, 1);
}
// --- end ---

// --- example: blocking ---
use juhe_sandbox::magic;
use juhe_verify::{Mode, blocking};

#[test]
fn a_provider_outage_is_reported_and_not_billed() {
    let sandbox = Sandbox::start().unwrap();
    // The sandbox's test account: base URL, key, openid and RSA public key in one value.
    let client =
        blocking::Client::builder().account(&sandbox.account()).mode(Mode::Rsa).build_blocking().unwrap();

    let outage = magic::PROVIDER_ERROR;
    let check = Telecom3Check::new(outage.name, outage.idcard, outage.mobile).unwrap();
    let error = client.telecom3(&check).unwrap_err();

    assert_eq!(error.code().map(|c| c.code()), Some(233901));
    assert_eq!(sandbox.ledger().billed, 0);
}
// --- end ---

const GUIDE: &str = include_str!("../../docs/sandbox.md");
const THIS_FILE: &str = include_str!("sandbox_guide.rs");

#[test]
fn the_guide_shows_these_examples_verbatim() {
    for name in ["async", "blocking"] {
        let start = format!("// --- example: {name} ---\n");
        let body = THIS_FILE.split(&start).nth(1).unwrap().split("// --- end ---").next().unwrap();
        assert!(
            GUIDE.contains(body.trim()),
            "docs/sandbox.md does not show the {name} example as tested here"
        );
    }
}

#[test]
fn the_guide_lists_every_magic_identity() {
    for m in magic::ALL {
        assert!(
            GUIDE.contains(m.idcard) && GUIDE.contains(m.mobile) && GUIDE.contains(m.name),
            "{} is not documented",
            m.name
        );
    }
    assert!(GUIDE.contains(juhe_sandbox::SANDBOX_KEY) && GUIDE.contains(juhe_sandbox::SANDBOX_OPENID));
}
