//! The `signup` example's handler, tested against the sandbox the way a service's own tests
//! would: a real person, someone else's name, a typo, and the sandbox's magic identities for
//! Juhe's refusals and a lost answer.

#[path = "../../examples/signup.rs"]
#[allow(dead_code, reason = "the example's `main` is not called here")]
mod example;

use example::{SignupAnswer, SignupForm, signup};
use juhe_sandbox::{Sandbox, magic};
use juhe_verify::{Client, RetryPolicy};

fn form(name: &str, idcard: &str, mobile: &str) -> SignupForm {
    SignupForm { name: name.into(), idcard: idcard.into(), mobile: mobile.into() }
}

#[tokio::test]
async fn signup_answers_each_case_and_pays_only_for_answers() {
    let sandbox = Sandbox::start().unwrap();
    let client =
        Client::builder().account(&sandbox.account()).retry_policy(RetryPolicy::never()).build().unwrap();
    let (p, q) = (&sandbox.identities()[0], &sandbox.identities()[1]);

    let verified = signup(&client, &form(&p.name, &p.idcard, &p.mobile)).await;
    assert!(
        matches!(verified, SignupAnswer::Verified { ref order_id } if order_id.starts_with("JHSB")),
        "{verified:?}"
    );
    assert_eq!(signup(&client, &form(&q.name, &p.idcard, &p.mobile)).await, SignupAnswer::NotTheSamePerson);
    let typo = signup(&client, &form(&p.name, "11010519491231002", &p.mobile)).await;
    assert!(matches!(typo, SignupAnswer::FixTheForm(ref m) if m.contains("idcard")), "{typo:?}");
    assert_eq!(sandbox.ledger().requests, 2, "the typo was not sent");

    let busy = magic::PROVIDER_ERROR;
    assert_eq!(
        signup(&client, &form(busy.name, busy.idcard, busy.mobile)).await,
        SignupAnswer::TryAgainLater
    );
    let lost = magic::CLOSE_CONNECTION;
    assert_eq!(
        signup(&client, &form(lost.name, lost.idcard, lost.mobile)).await,
        SignupAnswer::VerificationPending
    );
    assert_eq!(sandbox.ledger().billed, 3, "the match, the mismatch and the lost answer");
}
