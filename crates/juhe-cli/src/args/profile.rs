//! Named profiles from the config file (`sandbox`, `staging`, `production`): where checks go,
//! how, the ledger and its caps, the prices. A value typed on the command line wins, then the
//! environment's, then the profile's, then the default: a profile only fills what nothing
//! else gave. Secrets (the key, the openid, a ledger URL with a password) are read from the
//! environment or from a file nobody else may read, and stored in the profile in clear only
//! when the config file itself is that private.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use juhe_verify::Mode;
use serde::Deserialize;

use crate::args::lowargs::{ConnectionArgs, LedgerArgs, Transport, parse_duration, parse_timeout};
use crate::failure::Failure;
use crate::prices::Prices;

/// The config file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// The profile used when none is named.
    default: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileFile>,
}

/// One profile as written: every field optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    sandbox: Option<bool>,
    base_url: Option<String>,
    key: Option<String>,
    key_file: Option<PathBuf>,
    key_env: Option<String>,
    openid: Option<String>,
    openid_file: Option<PathBuf>,
    openid_env: Option<String>,
    rsa_public_key: Option<String>,
    mode: Option<String>,
    transport: Option<String>,
    timeout: Option<toml::Value>,
    ca_cert: Option<PathBuf>,
    ledger: Option<String>,
    reuse_within: Option<String>,
    max_billed_per_day: Option<u64>,
    max_billed_per_month: Option<u64>,
    purpose: Option<String>,
    consent_ref: Option<String>,
    #[serde(default)]
    prices: BTreeMap<String, toml::Value>,
}

/// The profile a command runs with.
#[derive(Debug)]
pub(crate) struct Profile {
    name: String,
    path: PathBuf,
    file: ProfileFile,
}

/// Where the config file is: `--config`/`JUHE_CONFIG`, else `config.toml` in the user's
/// config directory (`$XDG_CONFIG_HOME/juhe`, `~/.config/juhe`; `~/Library/Application
/// Support/juhe` on macOS; `%APPDATA%\juhe` on Windows).
pub(crate) fn config_path(given: Option<PathBuf>) -> Option<PathBuf> {
    if given.is_some() {
        return given;
    }
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = if cfg!(windows) {
        var("APPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|home| home.join("Library").join("Application Support"))
    } else {
        var("XDG_CONFIG_HOME").filter(|p| p.is_absolute()).or_else(|| var("HOME").map(|h| h.join(".config")))
    };
    dir.map(|dir| dir.join("juhe").join("config.toml"))
}

impl Profile {
    /// The profile named (`--profile`, `JUHE_PROFILE`), else the file's `default`, else none.
    /// A named profile needs the file and the profile; a file that cannot be read or parsed
    /// is an error whenever it exists.
    pub(crate) fn load(named: Option<&str>, path: Option<PathBuf>) -> Result<Option<Profile>, Failure> {
        let path = match (config_path(path), named) {
            (Some(path), _) => path,
            (None, None) => return Ok(None),
            (None, Some(name)) => {
                return Err(Failure::usage(format!(
                    "--profile {name}: no config directory (HOME is not set): give --config FILE"
                )));
            }
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && named.is_none() => return Ok(None),
            Err(e) => {
                let why = named.map(|n| format!("--profile {n}: ")).unwrap_or_default();
                return Err(Failure::usage(format!("{why}config {}: {e}", path.display())));
            }
        };
        let config: ConfigFile = toml::from_str(&text)
            .map_err(|e| Failure::usage(format!("config {}: {}", path.display(), e.message())))?;
        let Some(name) = named.map(str::to_owned).or(config.default.clone()) else { return Ok(None) };
        let Some(file) = config.profiles.get(&name).cloned() else {
            let known: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
            return Err(Failure::usage(format!(
                "config {}: no profile `{name}` (profiles: {})",
                path.display(),
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            )));
        };
        let profile = Profile { name, path, file };
        profile.refuse_secrets_in_a_shared_file()?;
        Ok(Some(profile))
    }

    /// A usage error about one of the profile's fields.
    fn error(&self, field: &str, why: impl std::fmt::Display) -> Failure {
        Failure::usage(format!("config {}, profile {}: {field}: {why}", self.path.display(), self.name))
    }

    /// A key, an openid or a ledger password written in clear needs a file only its owner
    /// may read.
    fn refuse_secrets_in_a_shared_file(&self) -> Result<(), Failure> {
        let f = &self.file;
        let in_clear = [
            f.key.as_ref().map(|_| "key"),
            f.openid.as_ref().map(|_| "openid"),
            f.ledger.as_deref().filter(|url| has_password(url)).map(|_| "ledger (its password)"),
        ];
        match in_clear.into_iter().flatten().next() {
            Some(field) => crate::private_file::refuse_shared(&self.path, &format!("{field} in the config"))
                .map_err(|e| self.error(field, format!("{e}; or move it to {field}_file or {field}_env"))),
            None => Ok(()),
        }
    }

    /// Fills what neither the command line nor the environment gave.
    pub(crate) fn fill_connection(&self, args: &mut ConnectionArgs) -> Result<(), Failure> {
        let f = &self.file;
        if args.key.is_none() {
            args.key = self.secret("key", &f.key, &f.key_file, &f.key_env)?;
        }
        if args.openid.is_none() {
            args.openid = self.secret("openid", &f.openid, &f.openid_file, &f.openid_env)?;
        }
        fill(&mut args.rsa_public_key, &f.rsa_public_key.as_deref().map(expand_home_text));
        fill(&mut args.base_url, &f.base_url);
        fill(&mut args.ca_cert, &f.ca_cert.as_deref().map(expand_home));
        if args.mode.is_none()
            && let Some(name) = &f.mode
        {
            let mode = Mode::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(name.trim()));
            args.mode = Some(mode.ok_or_else(|| self.error("mode", "plain, signed, aes or rsa"))?);
        }
        if args.transport.is_none()
            && let Some(name) = &f.transport
        {
            args.transport = Some(match name.trim().to_ascii_lowercase().as_str() {
                "reqwest" => Transport::Reqwest,
                "ureq" => Transport::Ureq,
                _ => return Err(self.error("transport", "reqwest or ureq")),
            });
        }
        if args.timeout.is_none()
            && let Some(value) = &f.timeout
        {
            let text = scalar_text(value).ok_or_else(|| self.error("timeout", "a number of seconds"))?;
            args.timeout = Some(parse_timeout(&text).map_err(|e| self.error("timeout", e))?);
        }
        // `sandbox = true` chooses the embedded sandbox, as `--sandbox` does.
        args.sandbox |= f.sandbox == Some(true);
        Ok(())
    }

    /// Fills the ledger options nothing else gave.
    pub(crate) fn fill_ledger(&self, args: &mut LedgerArgs) -> Result<(), Failure> {
        let f = &self.file;
        // `--no-ledger` turns the profile's ledger off, and with it what only a ledger does.
        if args.no_ledger {
            return Ok(());
        }
        fill(&mut args.ledger, &self.ledger());
        if args.reuse_within.is_none()
            && let Some(text) = &f.reuse_within
        {
            args.reuse_within = Some(parse_duration(text).map_err(|e| self.error("reuse_within", e))?);
        }
        fill(&mut args.max_billed_per_day, &f.max_billed_per_day);
        fill(&mut args.max_billed_per_month, &f.max_billed_per_month);
        if args.purpose.is_none() {
            fill(&mut args.purpose, &f.purpose);
            fill(&mut args.consent_ref, &f.consent_ref);
        }
        Ok(())
    }

    /// The profile's ledger, for the commands that read one.
    pub(crate) fn ledger(&self) -> Option<String> {
        self.file.ledger.as_deref().map(expand_home_text)
    }

    /// The profile's prices.
    pub(crate) fn prices(&self) -> Result<Prices, Failure> {
        let mut prices = Prices::default();
        for (product, value) in &self.file.prices {
            let text = scalar_text(value)
                .ok_or_else(|| self.error("prices", format!("{product}: a price such as 0.25")))?;
            prices.set(&format!("{product}={text}")).map_err(|e| self.error("prices", e))?;
        }
        Ok(prices)
    }

    /// A secret from the profile: in clear (the file was checked private), from a file only
    /// its owner may read, or from a named environment variable. At most one of them.
    fn secret(
        &self,
        field: &str,
        inline: &Option<String>,
        file: &Option<PathBuf>,
        env: &Option<String>,
    ) -> Result<Option<String>, Failure> {
        match (inline, file, env) {
            (None, None, None) => Ok(None),
            (Some(value), None, None) => Ok(Some(value.trim().to_owned())),
            (None, Some(path), None) => {
                let path = expand_home(path);
                crate::private_file::refuse_shared(&path, &format!("{field}_file"))
                    .map_err(|e| self.error(&format!("{field}_file"), e))?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| self.error(&format!("{field}_file"), format!("{}: {e}", path.display())))?;
                Ok(Some(text.trim().to_owned()))
            }
            (None, None, Some(variable)) => match std::env::var(variable) {
                Ok(value) if !value.trim().is_empty() => Ok(Some(value.trim().to_owned())),
                _ => Err(self.error(
                    &format!("{field}_env"),
                    format!("the environment variable {variable} is not set"),
                )),
            },
            _ => Err(self.error(field, format!("give one of {field}, {field}_file and {field}_env"))),
        }
    }
}

/// A number or a string as the text its parser takes; `None` for a table, a list, a date.
fn scalar_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::Float(x) => Some(x.to_string()),
        toml::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Sets `slot` from the profile when nothing else did.
fn fill<T: Clone>(slot: &mut Option<T>, from_profile: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(from_profile);
    }
}

/// `~/x` as `$HOME/x`: a config file is written by hand.
fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_owned(),
    }
}

/// A value that may be a path (`~/keys/public.pem`, a ledger file): `~/` expanded; URLs and
/// keys pass as they are.
fn expand_home_text(text: &str) -> String {
    if text.starts_with("~/") { expand_home(Path::new(text)).display().to_string() } else { text.to_owned() }
}

/// Whether a ledger URL carries a password (`postgres://user:secret@host/db`).
fn has_password(url: &str) -> bool {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .is_some_and(|(credentials, _)| credentials.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_password_is_seen() {
        assert!(has_password("postgres://juhe:s3cret@db/juhe"));
        assert!(!has_password("postgres://juhe@db/juhe"));
        assert!(!has_password("/var/lib/juhe/ledger.sqlite"));
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let error = toml::from_str::<ConfigFile>("[profiles.p]\nmod = \"aes\"\n").unwrap_err();
        assert!(error.message().contains("mod"), "{}", error.message());
    }
}
