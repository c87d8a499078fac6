//! Products, modes and hosts: which endpoint serves a product in a mode.

use std::fmt;

use crate::{Credential, Endpoint, Host, Param, Product, UnsupportedMode};

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How personal data travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Fields as they are (inside HTTPS).
    #[default]
    Plain,
    /// Plain fields plus an MD5 `sign` (telecom3 only).
    Signed,
    /// Each field AES-128-ECB encrypted with a key derived from the openid.
    Aes,
    /// RSA with the account's public key: each field RSA-OAEP (telecom2, telecom3), or an
    /// RSA-wrapped random AES key (idcard).
    Rsa,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 4] = [Mode::Plain, Mode::Signed, Mode::Aes, Mode::Rsa];

    /// `plain`, `signed`, `aes` or `rsa`.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Signed => "signed",
            Mode::Aes => "aes",
            Mode::Rsa => "rsa",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an endpoint encodes the personal fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldEncoding {
    /// As they are.
    Plain,
    /// As they are, plus `sign` = MD5(openid + key + realname + idcard + mobile).
    Signed,
    /// Each field AES-128-ECB with the openid key, base64.
    AesEcb,
    /// Each field RSA-OAEP-SHA1 with the account's public key, base64.
    RsaOaep,
    /// Each field AES-128-CBC with a fresh random key and the openid key as IV; the random key
    /// RSA-encrypted in `aesKey`.
    AesCbcWithRsaKey,
}

impl FieldEncoding {
    /// The credentials beyond the key this encoding needs: the one place this is written.
    pub const fn credentials(self) -> &'static [Credential] {
        match self {
            FieldEncoding::Plain => &[],
            FieldEncoding::Signed | FieldEncoding::AesEcb => &[Credential::Openid],
            FieldEncoding::RsaOaep => &[Credential::RsaPublicKey],
            FieldEncoding::AesCbcWithRsaKey => &[Credential::RsaPublicKey, Credential::Openid],
        }
    }
}

impl Mode {
    /// The credentials beyond the key that some product's endpoint in this mode needs.
    pub fn credentials(self) -> impl Iterator<Item = Credential> {
        let mut needed: Vec<Credential> = Vec::new();
        for endpoint in Endpoint::ALL.iter().filter(|e| e.info().mode == self) {
            for credential in endpoint.info().encoding.credentials() {
                if !needed.contains(credential) {
                    needed.push(*credential);
                }
            }
        }
        needed.into_iter()
    }
}

/// What an endpoint is: generated from [`docs/api/*.md`](https://github.com/juhe-rs/juhe-rs/blob/main/docs/api).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointInfo {
    /// The path below the host, without a leading slash: `telecom3/queryRV2`.
    pub api: &'static str,
    /// The product it checks.
    pub product: Product,
    /// The transmission mode it takes.
    pub mode: Mode,
    /// The host it is on; [`BaseUrls`](crate::BaseUrls) may put both hosts behind one URL.
    pub host: Host,
    /// How fields are encoded.
    pub encoding: FieldEncoding,
    /// Whether the endpoint takes POST only (all take POST; most also GET).
    pub post_only: bool,
    /// The form parameters, in the order they are sent.
    pub params: &'static [Param],
}

impl Endpoint {
    /// The endpoint serving `product` in `mode`.
    pub fn find(product: Product, mode: Mode) -> Result<Endpoint, UnsupportedMode> {
        Endpoint::ALL
            .into_iter()
            .find(|e| e.info().product == product && e.info().mode == mode)
            .ok_or(UnsupportedMode { product, mode })
    }

    /// The endpoint at `path` (`/telecom3/queryRV2` or `telecom3/queryRV2`). Matching is exact:
    /// Juhe's paths are case-sensitive.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        let path = path.strip_prefix('/').unwrap_or(path);
        Endpoint::ALL.into_iter().find(|e| e.info().api == path)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.info().api)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_endpoints_one_per_product_and_mode() {
        assert_eq!(Endpoint::ALL.len(), 11);
        let mut pairs: Vec<_> = Endpoint::ALL.iter().map(|e| (e.info().product, e.info().mode)).collect();
        pairs.dedup();
        assert_eq!(pairs.len(), 11);
        assert!(Endpoint::find(Product::Face, Mode::Aes).is_err());
        assert!(Endpoint::find(Product::IdCard, Mode::Signed).is_err());
        assert_eq!(Endpoint::find(Product::Telecom3, Mode::Signed), Ok(Endpoint::Telecom3Verify));
    }

    #[test]
    fn paths_round_trip() {
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(&format!("/{endpoint}")), Some(endpoint));
        }
        assert_eq!(Endpoint::from_path("/telecom3/queryrv2"), None);
    }
}
