//! `juhe gateway serve` and `juhe gateway keys …`.

mod keys;

use std::process::ExitCode;
use std::sync::Arc;

use juhe_crypto::SealingKey;
use juhe_gateway::Gateway;

use crate::args::hiargs::GatewayServe;
use crate::args::lowargs::MasterKeyArgs;
use crate::failure::Failure;

pub(crate) use keys::run as keys;

/// `juhe gateway serve`.
pub(crate) fn serve(serve: GatewayServe) -> Result<ExitCode, Failure> {
    let GatewayServe {
        addr,
        expose,
        tls,
        teams_apart,
        reuse_across_purposes,
        address_out,
        master_key,
        connection,
    } = serve;
    let master = master_key_of(&master_key)?;
    let tls = tls.map(|(cert, key)| tls_acceptor(&cert, &key)).transpose()?;
    let (builder, _sandbox) = crate::connection::settings(&connection)?;
    let location =
        connection.ledger.as_ref().map(|l| l.location.clone()).ok_or_else(|| Failure::usage("no ledger"))?;
    let ledger = crate::ledger::open(&location)?;
    let runtime = crate::connection::runtime(2)?;
    let upstream = builder.build().map_err(|e| Failure::usage(crate::failure::error_chain(&e)))?;
    let sharing = Sharing { teams_apart, reuse_across_purposes };
    let (gateway, admin_key) = gateway(Gateway::new(upstream, ledger, master, connection.mode), sharing)?;
    runtime.block_on(async move {
        let listener = bind(&addr, expose).await?;
        let local = listener.local_addr().map_err(|e| Failure::failed(format!("{addr}: {e}")))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{local}");
        if let Some(path) = &address_out {
            let json = serde_json::json!({ "base_url": base_url, "admin_key": admin_key });
            crate::private_file::write(path, format!("{json:#}\n").as_bytes())
                .map_err(|e| Failure::failed(format!("could not write {}: {e}", path.display())))?;
        }
        eprintln!(
            "juhe gateway listening on {base_url}, forwarding to {} in {} mode, ledger {} (Ctrl-C stops)",
            crate::connection::target_name(&connection),
            connection.mode.name(),
            location,
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let server =
            tokio::spawn(juhe_server::serve(listener, Arc::new(gateway), Default::default(), tls, stopped));
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
        let _ = server.await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Whose answers a team may reuse, as typed.
struct Sharing {
    teams_apart: bool,
    reuse_across_purposes: bool,
}

/// The gateway with its sharing rules and an admin key: JUHE_GATEWAY_ADMIN_KEY, or drawn at
/// random (written only to --address-out).
fn gateway(
    made: Result<Gateway, juhe_gateway::GatewayError>,
    sharing: Sharing,
) -> Result<(Gateway, String), Failure> {
    let failed = |e: juhe_gateway::GatewayError| Failure::failed(crate::failure::error_chain(&e));
    let mut gateway = made.map_err(failed)?;
    if sharing.teams_apart {
        gateway = gateway.teams_apart().map_err(failed)?;
    }
    if sharing.reuse_across_purposes {
        gateway = gateway.reuse_across_purposes().map_err(failed)?;
    }
    let admin_key =
        std::env::var("JUHE_GATEWAY_ADMIN_KEY").ok().filter(|k| !k.is_empty()).unwrap_or_else(|| {
            juhe_crypto::AesKey::generate().as_bytes().iter().map(|b| format!("{b:02x}")).collect()
        });
    Ok((gateway.admin_key(admin_key.clone()), admin_key))
}

/// The listener: loopback unless exposed, as the sandbox's rule is.
async fn bind(addr: &str, expose: bool) -> Result<tokio::net::TcpListener, Failure> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::usage(format!("could not listen on {addr}: {e}")))?;
    let local = listener.local_addr().map_err(|e| Failure::failed(format!("{addr}: {e}")))?;
    if !local.ip().is_loopback() && !expose {
        return Err(Failure::usage(format!(
            "{addr} is reachable from other machines: pass --expose (with --tls-cert and --tls-key) to serve there"
        )));
    }
    Ok(listener)
}

fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<juhe_server::TlsAcceptor, Failure> {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
    };
    juhe_server::tls_acceptor_from_pem(&read(cert)?, &read(key)?).map_err(|e| Failure::usage(e.to_string()))
}

/// The master key: --master-key-file (readable by its owner only), else
/// JUHE_GATEWAY_MASTER_KEY; base64 of at least 32 bytes.
pub(crate) fn master_key_of(args: &MasterKeyArgs) -> Result<SealingKey, Failure> {
    let (text, from) = match &args.master_key_file {
        Some(path) => {
            crate::private_file::refuse_shared(path, "--master-key-file")?;
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--master-key-file {}: {e}", path.display())))?;
            (text, format!("--master-key-file {}", path.display()))
        }
        None => match std::env::var("JUHE_GATEWAY_MASTER_KEY") {
            Ok(text) if !text.trim().is_empty() => (text, "JUHE_GATEWAY_MASTER_KEY".to_owned()),
            _ => {
                return Err(Failure::usage(
                    "the gateway needs its master key (the teams' secrets are sealed under it): \
                     --master-key-file FILE or JUHE_GATEWAY_MASTER_KEY, base64 of 32 random bytes \
                     (`openssl rand -base64 32`)",
                ));
            }
        },
    };
    let bytes = juhe_crypto::base64_decode(text.trim()).map_err(|_| {
        Failure::usage(format!("{from}: not base64 (make one with `openssl rand -base64 32`)"))
    })?;
    SealingKey::from_master(&bytes).map_err(|e| Failure::usage(format!("{from}: {e}")))
}
