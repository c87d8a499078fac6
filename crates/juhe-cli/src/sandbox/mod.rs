//! `juhe sandbox serve` and `juhe sandbox identities`.

use std::io::Write;
use std::process::ExitCode;

use juhe_sandbox::{Identity, RequestRecord, Sandbox, SandboxBuilder};

use std::path::PathBuf;

use crate::args::hiargs::IdentityFormat;
use crate::args::lowargs::ServeArgs;
use crate::failure::Failure;

/// `juhe sandbox serve`.
pub(crate) fn serve(args: ServeArgs) -> Result<ExitCode, Failure> {
    let ServeArgs {
        addr,
        credentials_out,
        identities,
        fresh_rsa_key,
        quiet,
        expose,
        latency,
        qps,
        ip_qps,
        seed,
        admin_key,
        tls,
    } = args;
    let mut builder = Sandbox::builder().addr(addr);
    if let Some(range) = latency {
        builder = builder.latency(range);
    }
    if let Some(n) = qps {
        builder = builder.qps(n);
    }
    if let Some(n) = ip_qps {
        builder = builder.ip_qps(n);
    }
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    if tls {
        builder = builder.tls();
    }
    if expose {
        let told = if credentials_out.is_some() {
            "in --credentials-out"
        } else if admin_key.is_some() {
            "given with --admin-key"
        } else {
            "random and written nowhere: pass --credentials-out FILE to use them"
        };
        eprintln!(
            "juhe: WARNING: --expose: other machines can reach this sandbox and its identities; admin routes need the admin key ({told})"
        );
        builder = builder.expose();
        if let Some(key) = admin_key {
            builder = builder.admin_key(key);
        }
    }
    if !quiet {
        builder = builder.on_request(log_line);
    }
    if let Some(path) = identities {
        builder = builder.identities_file(path);
    }
    if fresh_rsa_key {
        builder = builder.fresh_rsa_key();
    }
    run_server(builder, credentials_out.as_deref())
}

/// `juhe sandbox identities`.
pub(crate) fn identities(identities: Option<PathBuf>, format: IdentityFormat) -> Result<ExitCode, Failure> {
    let mut builder = Sandbox::builder().addr("127.0.0.1:0");
    if let Some(path) = identities {
        builder = builder.identities_file(path);
    }
    let sandbox = builder.start().map_err(start_failure)?;
    print_identities(sandbox.identities(), format)
}

/// A sandbox that would not start: the user's input (an address, an identities file) is a
/// usage error (2); anything else a failure (4).
fn start_failure(error: juhe_sandbox::SandboxError) -> Failure {
    use juhe_sandbox::SandboxError;
    match error {
        SandboxError::NotLoopback { .. }
        | SandboxError::Bind { .. }
        | SandboxError::IdentitiesFile { .. }
        | SandboxError::InvalidIdentity { .. } => Failure::usage(error.to_string()),
        other => Failure::failed(other.to_string()),
    }
}

fn run_server(
    builder: SandboxBuilder,
    credentials_out: Option<&std::path::Path>,
) -> Result<ExitCode, Failure> {
    let sandbox = builder.start().map_err(start_failure)?;
    if let Some(path) = credentials_out {
        let mut credentials = serde_json::json!({
            "base_url": sandbox.base_url(),
            "key": sandbox.key(),
            "openid": sandbox.openid(),
            "rsa_public_key": sandbox.rsa_public_key_pem(),
        });
        if let Some(pem) = sandbox.ca_certificate_pem() {
            credentials["ca_certificate"] = pem.into();
        }
        if let Some(key) = sandbox.admin_key() {
            credentials["admin_key"] = key.into();
        }
        crate::private_file::write(path, format!("{credentials:#}\n").as_bytes())
            .map_err(|e| Failure::failed(format!("could not write {}: {e}", path.display())))?;
    }
    eprintln!(
        "juhe sandbox listening on {} with {} identities (test key {}; Ctrl-C stops)",
        sandbox.base_url(),
        sandbox.identities().len(),
        sandbox.key()
    );
    sandbox.run_until_ctrl_c().map_err(|e| Failure::failed(format!("waiting for Ctrl-C: {e}")))?;
    eprintln!("juhe sandbox stopped");
    Ok(ExitCode::SUCCESS)
}

/// One line per request, personal data already masked by the sandbox.
fn log_line(record: &RequestRecord) {
    let code = record.error_code.map_or_else(|| "-".to_owned(), |c| c.to_string());
    let billed = if record.billed { "billed" } else { "not billed" };
    let fault = record.fault.as_deref().map(|f| format!(" fault={f}")).unwrap_or_default();
    eprintln!(
        "{} /{} error_code={code} {billed} {}{fault}",
        record.method,
        record.api.trim_start_matches('/'),
        record.who
    );
}

fn print_identities(people: &[Identity], format: IdentityFormat) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    let written: std::io::Result<()> = match format {
        IdentityFormat::Json => serde_json::to_writer_pretty(&mut out, people)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        IdentityFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            people
                .iter()
                .try_for_each(|p| writer.serialize(p))
                .map_err(csv_to_io)
                .and_then(|()| writer.flush())
        }
    };
    match written {
        // `juhe sandbox identities | head` is not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::failed(format!("could not write the identities: {e}")))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn csv_to_io(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}
