//! One phone + name + ID card check with the async client.
//!
//! `cargo run -p juhe-verify --example async_check` checks a sandbox identity offline. With
//! `JUHE_KEY` (and `JUHE_OPENID` for AES) set, it checks the person given as arguments
//! against Juhe instead — a billed call: `... -- 张三 11010519491231002X 13912345678`.

use juhe_verify::{Client, Mode, Telecom3Check, Verdict};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (client, check, _sandbox) = if std::env::var_os("JUHE_KEY").is_some() {
        let [name, idcard, mobile] = args.as_slice() else {
            return Err("usage: async_check NAME IDCARD MOBILE".into());
        };
        (Client::from_env()?, Telecom3Check::new(name, idcard, mobile)?, None)
    } else {
        let sandbox = juhe_sandbox::Sandbox::start()?;
        let client = Client::builder().account(&sandbox.account()).mode(Mode::Aes).build()?;
        let person = &sandbox.identities()[0];
        let check = Telecom3Check::new(&person.name, &person.idcard, &person.mobile)?;
        eprintln!("JUHE_KEY is not set: checking a sandbox identity at {}", sandbox.base_url());
        (client, check, Some(sandbox))
    };
    let outcome = client.telecom3(&check).await?;
    match outcome.verdict {
        Verdict::Match => println!("match: {check:?}, order {:?}", outcome.order_id),
        _ => {
            println!("no match: {:?} ({:?}), order {:?}", outcome.rescode, outcome.message, outcome.order_id)
        }
    }
    Ok(())
}
