//! Which proxy the environment names for a request: one rule for both backends, read once
//! when a transport is made.
//!
//! - `https://` goes through `HTTPS_PROXY` (or `https_proxy`), `http://` through `HTTP_PROXY`
//!   (or `http_proxy`); either falls back on `ALL_PROXY` (`all_proxy`). A variable applies only
//!   to its scheme, as in curl and reqwest: `HTTPS_PROXY` never carries a plain-HTTP check.
//! - `NO_PROXY` lists hosts reached directly: `*`, a host, a domain (`example.com` and
//!   `.example.com` both match its subdomains), an IP address.
//! - A server on this machine (`localhost`, a loopback address) is always reached directly: a
//!   proxy would see every request to it, personal data included, in clear (as Go's HTTP
//!   client does).
//! - A proxy named with a scheme the backends cannot use (`socks5://`, `ftp://`) refuses the
//!   request before it is sent, naming the variable; going around it would send the check
//!   where the user said it must not go.

use crate::{Delivery, TransportError, TransportErrorKind};

/// The proxy variables, as the environment had them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EnvironmentProxies {
    http: Option<Named>,
    https: Option<Named>,
    all: Option<Named>,
    no_proxy: Vec<String>,
}

/// A proxy URL and the variable that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    variable: &'static str,
    url: String,
}

/// How a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route<'p> {
    /// Straight to the server.
    Direct,
    /// Through the proxy at this `http://` or `https://` URL.
    Proxy(&'p str),
}

impl EnvironmentProxies {
    /// The variables of this process's environment.
    pub(crate) fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The variables as `lookup` gives them (upper case first, then lower, as curl reads them).
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let named = |upper: &'static str, lower: &'static str| {
            [upper, lower].into_iter().find_map(|variable| {
                let url = lookup(variable)?.trim().to_owned();
                (!url.is_empty()).then_some(Named { variable, url })
            })
        };
        let no_proxy = named("NO_PROXY", "no_proxy").map(|n| n.url).unwrap_or_default();
        Self {
            http: named("HTTP_PROXY", "http_proxy"),
            https: named("HTTPS_PROXY", "https_proxy"),
            all: named("ALL_PROXY", "all_proxy"),
            no_proxy: no_proxy
                .split(',')
                .map(|entry| entry.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|entry| !entry.is_empty())
                .collect(),
        }
    }

    /// How a request to `uri` goes; an error (nothing sent) when its proxy cannot be used.
    pub(crate) fn route(&self, uri: &http::Uri) -> Result<Route<'_>, TransportError> {
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let host = host.to_ascii_lowercase();
        let named = match uri.scheme_str() {
            Some("https") => self.https.as_ref().or(self.all.as_ref()),
            _ => self.http.as_ref().or(self.all.as_ref()),
        };
        let Some(named) = named else { return Ok(Route::Direct) };
        if is_this_machine(&host) || self.excluded(&host) {
            return Ok(Route::Direct);
        }
        let scheme = named.url.split_once("://").map_or("http", |(scheme, _)| scheme).to_ascii_lowercase();
        match scheme.as_str() {
            "http" | "https" => Ok(Route::Proxy(&named.url)),
            other => Err(TransportError::new(
                TransportErrorKind::Request,
                Delivery::NotSent,
                format!(
                    "{} names a {other}:// proxy, which this client cannot use; nothing was sent: \
                     name an http:// proxy there, or unset it",
                    named.variable
                ),
            )),
        }
    }

    fn excluded(&self, host: &str) -> bool {
        self.no_proxy.iter().any(|entry| {
            let entry = entry
                .rsplit_once(':')
                .filter(|(_, port)| port.parse::<u16>().is_ok())
                .map_or(entry.as_str(), |(h, _)| h);
            entry == "*" || host == entry || host.strip_suffix(entry).is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

/// `localhost` and loopback addresses.
pub(crate) fn is_this_machine(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> EnvironmentProxies {
        EnvironmentProxies::from_lookup(|name| {
            vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
        })
    }

    fn route(p: &EnvironmentProxies, url: &str) -> Result<Option<String>, String> {
        match p.route(&url.parse().unwrap()) {
            Ok(Route::Direct) => Ok(None),
            Ok(Route::Proxy(url)) => Ok(Some(url.to_owned())),
            Err(e) => {
                let mut chain = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    chain += &format!(": {cause}");
                    source = cause.source();
                }
                Err(chain)
            }
        }
    }

    #[test]
    fn each_variable_applies_to_its_scheme_only() {
        let p = proxies(&[("HTTPS_PROXY", "http://secure:3128")]);
        assert_eq!(route(&p, "https://apis.juhe.cn/x"), Ok(Some("http://secure:3128".into())));
        assert_eq!(route(&p, "http://sandbox.example:8080/x"), Ok(None), "HTTPS_PROXY never carries http://");
        let p = proxies(&[("http_proxy", "http://plain:3128"), ("ALL_PROXY", "http://all:3128")]);
        assert_eq!(route(&p, "http://a.example/"), Ok(Some("http://plain:3128".into())));
        assert_eq!(route(&p, "https://a.example/"), Ok(Some("http://all:3128".into())));
    }

    #[test]
    fn no_proxy_and_this_machine_go_direct() {
        let p =
            proxies(&[("ALL_PROXY", "http://p:1"), ("NO_PROXY", "internal.example, .corp:8080,10.1.2.3")]);
        for direct in
            ["https://internal.example/", "https://a.internal.example/", "http://x.corp/", "http://10.1.2.3/"]
        {
            assert_eq!(route(&p, direct), Ok(None), "{direct}");
        }
        for local in ["http://127.0.0.1:8080/", "http://localhost/", "http://[::1]:9/", "http://a.localhost/"]
        {
            assert_eq!(route(&p, local), Ok(None), "{local}");
        }
        assert_eq!(route(&p, "https://notinternal.example/"), Ok(Some("http://p:1".into())));
        assert_eq!(
            route(&proxies(&[("ALL_PROXY", "http://p:1"), ("NO_PROXY", "*")]), "https://a.b/"),
            Ok(None)
        );
    }

    #[test]
    fn a_proxy_of_another_kind_refuses_the_request_naming_the_variable() {
        let p = proxies(&[("ALL_PROXY", "socks5://user:secret@s:1080"), ("HTTP_PROXY", "ftp://f:21")]);
        let refused = route(&p, "https://apis.juhe.cn/").unwrap_err();
        assert!(refused.contains("ALL_PROXY") && refused.contains("socks5://"), "{refused}");
        assert!(!refused.contains("secret"), "the proxy's password: {refused}");
        assert!(route(&p, "http://a.example/").unwrap_err().contains("HTTP_PROXY"));
        assert_eq!(route(&p, "http://127.0.0.1/"), Ok(None), "this machine is never proxied");
    }
}
