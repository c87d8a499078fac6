//! One ID card + name check with the blocking client, in RSA mode.
//!
//! `cargo run -p juhe-verify --example blocking_check` checks a sandbox identity offline.

use juhe_verify::{IdCardCheck, Mode, Verdict, blocking};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = juhe_sandbox::Sandbox::start()?;
    let client = blocking::Client::builder().account(&sandbox.account()).mode(Mode::Rsa).build_blocking()?;

    let person = &sandbox.identities()[1];
    let check = IdCardCheck::new(&person.name, &person.idcard)?;
    let outcome = client.idcard(&check)?;
    println!("{check:?}: {:?} (order {:?})", outcome.verdict, outcome.order_id);
    assert_eq!(outcome.verdict, Verdict::Match);

    // Bad input never leaves the machine: the error names the field.
    let typo = IdCardCheck::new(&person.name, "110105194912310021").unwrap_err();
    println!("refused locally: {typo}");
    println!("sandbox ledger: {:?}", sandbox.ledger());
    Ok(())
}
