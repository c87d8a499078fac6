//! Where requests go: Juhe's hosts, or one base URL replacing them all.

use crate::Host;
use crate::validation::{Field, Problem, ValidationError};

/// The base URLs of Juhe's hosts ([`Host`], from the registry). HTTPS by default; a single
/// override (a sandbox, a proxy) replaces them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrls {
    /// By host, in the order of [`Host::ALL`].
    urls: Vec<String>,
}

impl Default for BaseUrls {
    fn default() -> Self {
        Self { urls: Host::ALL.iter().map(|h| h.default_base_url().to_owned()).collect() }
    }
}

impl BaseUrls {
    /// One base URL for every endpoint, such as `http://127.0.0.1:8080` or
    /// `https://proxy.example/juhe`.
    pub fn single(url: &str) -> Result<Self, ValidationError> {
        let url = checked(url)?;
        Ok(Self { urls: vec![url; Host::ALL.len()] })
    }

    /// Separate base URLs for `apis.juhe.cn` and `op.juhe.cn`; any other host keeps Juhe's.
    pub fn new(apis: &str, op: &str) -> Result<Self, ValidationError> {
        Self::default().with(Host::Apis, apis)?.with(Host::Op, op)
    }

    /// These base URLs with `host`'s replaced by `url`.
    pub fn with(mut self, host: Host, url: &str) -> Result<Self, ValidationError> {
        let url = checked(url)?;
        if let Some(slot) = Host::ALL.iter().position(|h| *h == host).and_then(|i| self.urls.get_mut(i)) {
            *slot = url;
        }
        Ok(self)
    }

    /// The base URL of `host`, without a trailing slash.
    pub fn of(&self, host: Host) -> &str {
        let index = Host::ALL.iter().position(|h| *h == host);
        index.and_then(|i| self.urls.get(i)).map_or_else(|| host.default_base_url(), String::as_str)
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
    fn each_host_has_juhes_url_until_replaced() {
        let urls = BaseUrls::default();
        assert_eq!(urls.of(Host::Apis), "https://apis.juhe.cn");
        assert_eq!(urls.of(Host::Op), "https://op.juhe.cn");
        let urls = urls.with(Host::Op, "http://127.0.0.1:9/").unwrap();
        assert_eq!((urls.of(Host::Apis), urls.of(Host::Op)), ("https://apis.juhe.cn", "http://127.0.0.1:9"));
        let both = BaseUrls::new("http://a.example", "http://o.example").unwrap();
        assert_eq!((both.of(Host::Apis), both.of(Host::Op)), ("http://a.example", "http://o.example"));
        assert!(BaseUrls::default().with(Host::Apis, "ftp://x").is_err());
    }

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
