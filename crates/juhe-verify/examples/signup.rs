//! Verify a new user at signup, the way a web handler (axum, actix, …) would, and test it
//! against the sandbox. The handler maps every outcome to what the sign-up page should say,
//! and every error by what it means for money: refused before sending costs nothing, a
//! timeout may have been billed and must not be retried blindly. The check is a plain
//! `await`: with a ledger, a browser that disconnects mid-check (the framework drops the
//! handler) loses no billed answer; the check finishes on its own task and the ledger keeps
//! it for the next asker.
//!
//! `cargo run -p juhe-verify --example signup` (offline; nothing is billed).

use juhe_verify::{Client, Error, Telecom3Check, Verdict};

/// What the sign-up form sends.
pub(crate) struct SignupForm {
    pub(crate) name: String,
    pub(crate) idcard: String,
    pub(crate) mobile: String,
}

/// What the handler answers, as an HTTP status and a message for the page.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SignupAnswer {
    /// 201: verified; keep Juhe's order number with the account.
    Verified { order_id: String },
    /// 422: the name, ID card and mobile do not belong together.
    NotTheSamePerson,
    /// 400: a field is wrong; nothing was sent. The message names the field.
    FixTheForm(String),
    /// 503: not verified now, nothing billed; the user may try again.
    TryAgainLater,
    /// 502: no answer after sending: it may have been billed. Do not send it again on your
    /// own: look it up (Juhe's order records) or let support decide.
    VerificationPending,
}

/// The handler's body: one telecom3 check (mobile + name + ID card).
pub(crate) async fn signup(client: &Client, form: &SignupForm) -> SignupAnswer {
    let check = match Telecom3Check::new(&form.name, &form.idcard, &form.mobile) {
        Ok(check) => check,
        Err(invalid) => return SignupAnswer::FixTheForm(invalid.to_string()),
    };
    match client.telecom3(&check).await {
        Ok(outcome) if outcome.verdict == Verdict::Match => {
            SignupAnswer::Verified { order_id: outcome.order_id.unwrap_or_default() }
        }
        Ok(_) => SignupAnswer::NotTheSamePerson,
        Err(error) if error.may_be_billed() => SignupAnswer::VerificationPending,
        Err(Error::Service(e)) if e.code.retry_class() == juhe_verify::RetryClass::Permanent => {
            SignupAnswer::NotTheSamePerson
        }
        Err(_) => SignupAnswer::TryAgainLater,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = juhe_sandbox::Sandbox::start()?;
    let client = Client::builder().account(&sandbox.account()).build()?;
    let person = &sandbox.identities()[0];
    let form = SignupForm {
        name: person.name.clone(),
        idcard: person.idcard.clone(),
        mobile: person.mobile.clone(),
    };
    println!("{:?}", signup(&client, &form).await);
    Ok(())
}
