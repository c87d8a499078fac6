//! Which proxy the environment names for a request: one rule for both backends, read once
//! when a transport is made.
//!
//! - `https://` goes through `HTTPS_PROXY` (or `https_proxy`), `http://` through `HTTP_PROXY`
//!   (or `http_proxy`); either falls back on `ALL_PROXY` (`all_proxy`). A variable applies only
//!   to its scheme, as in curl and reqwest: `HTTPS_PROXY` never carries a plain-HTTP check.
//! - `NO_PROXY` lists hosts reached directly: `*`, a host, a domain (`example.com` and
//!   `.example.com` both match its subdomains), an IP address (IPv6 with or without brackets,
//!   `2001:db8::5` and `[2001:db8::5]`), a CIDR block (`10.0.0.0/8`, `2001:db8::/32`), each
//!   with an optional `:port`, as curl (≥ 7.86) and reqwest read it.
//! - A server on this machine (`localhost`, a loopback or unspecified address) is always
//!   reached directly: a proxy would see every request to it, personal data included, in clear
//!   (as Go's HTTP client does).
//! - Hosts are compared as the resolver will take them ([`Host::of`]): `localhost.` is
//!   `localhost`, `127.1`, `0x7f.0.0.1`, `2130706433` and `127.0.0.1.` are `127.0.0.1`,
//!   `::ffff:127.0.0.1` is `127.0.0.1`. One rule for both backends, whatever their URL parsers
//!   normalise.
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
    no_proxy: Vec<NoProxy>,
}

/// One entry of `NO_PROXY`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NoProxy {
    /// `*`: every host.
    All,
    /// A host name or a domain (lower case, no leading or trailing dot).
    Name(String),
    /// An address block; one address is a block of its whole length.
    Block(std::net::IpAddr, u8),
}

impl NoProxy {
    fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim();
        if entry == "*" {
            return Some(Self::All);
        }
        // `[v6]` or `[v6]:port`.
        let entry = match entry.strip_prefix('[').and_then(|rest| rest.split_once(']')) {
            Some((inside, _port)) => inside,
            None => entry,
        };
        if let Some((address, bits)) = entry.split_once('/') {
            let address = ip_address(address)?;
            let bits = bits.parse::<u8>().ok().filter(|b| *b <= max_bits(address))?;
            return Some(Self::Block(address, bits));
        }
        if let Some(address) = ip_address(entry) {
            return Some(Self::Block(address, max_bits(address)));
        }
        // `host:port`: the port does not narrow it (as curl).
        let name =
            entry.rsplit_once(':').filter(|(_, port)| port.parse::<u16>().is_ok()).map_or(entry, |(h, _)| h);
        if let Some(address) = ip_address(name) {
            return Some(Self::Block(address, max_bits(address)));
        }
        let name = name.trim_start_matches('.').trim_end_matches('.').to_ascii_lowercase();
        (!name.is_empty()).then_some(Self::Name(name))
    }

    fn matches(&self, host: &Host) -> bool {
        match (self, host) {
            (Self::All, _) => true,
            (Self::Name(entry), Host::Name(name)) => {
                name == entry || name.strip_suffix(entry.as_str()).is_some_and(|rest| rest.ends_with('.'))
            }
            (Self::Block(block, bits), Host::Ip(ip)) => in_block(*ip, *block, *bits),
            _ => false,
        }
    }
}

/// A request's host, as the resolver will take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// An address, in whatever spelling it came (IPv4-mapped IPv6 as its IPv4 address).
    Ip(std::net::IpAddr),
    /// A name: lower case, one trailing dot off.
    Name(String),
}

impl Host {
    /// `host` (brackets off, as a URI gives an IPv6 address) as the resolver will take it.
    pub(crate) fn of(host: &str) -> Self {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match ip_address(host) {
            Some(ip) => Self::Ip(ip),
            None => Self::Name(host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()),
        }
    }
}

/// An IP address in any spelling a resolver accepts: IPv6 (an IPv4-mapped one as its IPv4
/// address), or IPv4 as `inet_aton` reads it (1 to 4 parts, each decimal, `0x` hex or
/// `0`-led octal, the last filling the bytes left; one trailing dot allowed).
fn ip_address(text: &str) -> Option<std::net::IpAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    if let Ok(v6) = text.parse::<Ipv6Addr>() {
        return Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4));
    }
    let text = text.strip_suffix('.').unwrap_or(text);
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for part in &parts {
        let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (*part, 10)
        };
        if digits.is_empty() && radix != 16 {
            return None;
        }
        numbers.push(if digits.is_empty() { 0 } else { u64::from_str_radix(digits, radix).ok()? });
    }
    let (last, leading) = numbers.split_last()?;
    if leading.iter().any(|n| *n > 255) || *last >= 1u64 << (8 * (5 - numbers.len())) {
        return None;
    }
    let value = leading.iter().enumerate().fold(*last, |acc, (i, n)| acc | (n << (8 * (3 - i))));
    Some(IpAddr::V4(Ipv4Addr::from(u32::try_from(value).ok()?)))
}

fn max_bits(ip: std::net::IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

/// Whether `ip` is in the block of `bits` leading bits of `block`.
fn in_block(ip: std::net::IpAddr, block: std::net::IpAddr, bits: u8) -> bool {
    use std::net::IpAddr;
    let (ip, block, width) = match (ip, block) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = u32::from(width.min(128) - u8::min(bits, width));
    shift >= 128 || (ip >> shift) == (block >> shift)
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
    /// Whether no proxy is named at all: every request goes direct.
    pub(crate) fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none() && self.all.is_none()
    }

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
            no_proxy: no_proxy.split([',', ' ']).filter_map(NoProxy::parse).collect(),
        }
    }

    /// How a request to `uri` goes; an error (nothing sent) when its proxy cannot be used.
    pub(crate) fn route(&self, uri: &http::Uri) -> Result<Route<'_>, TransportError> {
        let named = match uri.scheme_str() {
            Some("https") => self.https.as_ref().or(self.all.as_ref()),
            _ => self.http.as_ref().or(self.all.as_ref()),
        };
        let Some(named) = named else { return Ok(Route::Direct) };
        // Read only when a proxy is named: this runs for every request.
        let host = Host::of(uri.host().unwrap_or_default());
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

    fn excluded(&self, host: &Host) -> bool {
        self.no_proxy.iter().any(|entry| entry.matches(host))
    }
}

/// `localhost` and its subdomains, loopback addresses, and the unspecified ones (`0.0.0.0`
/// and `::` reach this machine too), in any spelling the resolver accepts.
pub(crate) fn is_this_machine(host: &Host) -> bool {
    match host {
        Host::Name(name) => name == "localhost" || name.ends_with(".localhost"),
        Host::Ip(ip) => ip.is_loopback() || ip.is_unspecified(),
    }
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
        for spelled in [
            "http://127.1:9/",
            "http://127.0.0.1.:9/",
            "http://localhost.:9/",
            "http://[::ffff:127.0.0.1]:9/",
            "http://0x7f.0.0.1/",
            "http://2130706433/",
            "http://017700000001/",
            "http://0.0.0.0:9/",
            "http://LOCALHOST/",
        ] {
            assert_eq!(route(&p, spelled), Ok(None), "{spelled} is this machine");
        }
        for elsewhere in ["http://128.0.0.1/", "http://127.0.0.1.example/", "http://localhost.example/"] {
            assert_eq!(route(&p, elsewhere), Ok(Some("http://p:1".into())), "{elsewhere}");
        }
        assert_eq!(
            route(&proxies(&[("ALL_PROXY", "http://p:1"), ("NO_PROXY", "*")]), "https://a.b/"),
            Ok(None)
        );
    }

    #[test]
    fn no_proxy_takes_ipv6_and_cidr_as_curl_does() {
        let p = proxies(&[
            ("ALL_PROXY", "http://p:1"),
            ("NO_PROXY", "2001:db8::5, [2001:db8::6]:443, 10.0.0.0/8, 2001:db8:1::/48, 192.168.1.1:80"),
        ]);
        for direct in [
            "http://[2001:db8::5]:9/",
            "http://[2001:db8::6]/",
            "http://10.1.2.3/",
            "http://10.255.255.255:8080/",
            "http://[2001:db8:1:ffff::1]/",
            "http://192.168.1.1/",
            "http://[::ffff:10.0.0.7]/",
        ] {
            assert_eq!(route(&p, direct), Ok(None), "{direct}");
        }
        for proxied in
            ["http://[2001:db8::7]/", "http://11.0.0.1/", "http://[2001:db8:2::1]/", "http://192.168.1.2/"]
        {
            assert_eq!(route(&p, proxied), Ok(Some("http://p:1".into())), "{proxied}");
        }
        assert_eq!(NoProxy::parse("10.0.0.0/33"), None, "no such block");
        assert_eq!(NoProxy::parse("0.0.0.0/0"), Some(NoProxy::Block("0.0.0.0".parse().unwrap(), 0)));
        assert!(NoProxy::parse("0.0.0.0/0").unwrap().matches(&Host::of("8.8.8.8")));
    }

    #[test]
    fn addresses_are_read_as_the_resolver_reads_them() {
        for (text, ip) in [
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("10.0.0.1.", "10.0.0.1"),
            ("::ffff:127.0.0.1", "127.0.0.1"),
            ("::1", "::1"),
        ] {
            assert_eq!(ip_address(text), Some(ip.parse().unwrap()), "{text}");
        }
        for not_ip in ["256.0.0.1", "1.2.3.4.5", "example.com", "", "1..2", "08.0.0.1", "4294967296"] {
            assert_eq!(ip_address(not_ip), None, "{not_ip}");
        }
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
