//! Where requests go: Juhe's two hosts, or one base URL replacing both.

use crate::Host;
use crate::validation::{Field, Problem, ValidationError};

/// The base URLs of Juhe's two hosts. HTTPS by default; a single override (a sandbox, a
/// proxy) replaces both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrls {
    apis: String,
    op: String,
}

impl Default for BaseUrls {
    fn default() -> Self {
        Self { apis: "https://apis.juhe.cn".into(), op: "https://op.juhe.cn".into() }
    }
}

impl BaseUrls {
    /// One base URL for every endpoint, such as `http://127.0.0.1:8080` or
    /// `https://proxy.example/juhe`.
    pub fn single(url: &str) -> Result<Self, ValidationError> {
        let url = checked(url)?;
        Ok(Self { apis: url.clone(), op: url })
    }

    /// Separate base URLs for `apis.juhe.cn` and `op.juhe.cn`.
    pub fn new(apis: &str, op: &str) -> Result<Self, ValidationError> {
        Ok(Self { apis: checked(apis)?, op: checked(op)? })
    }

    /// The base URL of `host`, without a trailing slash.
    pub fn of(&self, host: Host) -> &str {
        match host {
            Host::Apis => &self.apis,
            Host::Op => &self.op,
        }
    }
}

/// An absolute http(s) URL with a host, no query, no fragment, no credentials; trailing
/// slashes dropped.
fn checked(url: &str) -> Result<String, ValidationError> {
    let invalid = || ValidationError::new(Field::BaseUrl, Problem::Url);
    let url = url.trim().trim_end_matches('/');
    let uri: http::Uri = url.parse().map_err(|_| invalid())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let authority = uri.authority().ok_or_else(invalid)?;
    // Credentials in a URL end up in logs: refuse them.
    if !scheme_ok
        || authority.as_str().contains('@')
        || uri.query().is_some()
        || url.contains('#')
        || authority.host().is_empty()
    {
        return Err(invalid());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_trims_base_urls() {
        let urls = BaseUrls::single("http://127.0.0.1:8080/").unwrap();
        assert_eq!(urls.of(Host::Op), "http://127.0.0.1:8080");
        assert_eq!(
            BaseUrls::single("https://proxy.example/juhe").unwrap().of(Host::Apis),
            "https://proxy.example/juhe"
        );
    }

    #[test]
    fn refuses_what_is_not_a_base_url() {
        for url in ["", "apis.juhe.cn", "ftp://x", "http://u:p@x", "http://x/?a=1", "http://x/#f", "http://"]
        {
            assert!(BaseUrls::single(url).is_err(), "{url}");
        }
    }
}
