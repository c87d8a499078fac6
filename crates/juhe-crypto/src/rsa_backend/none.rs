//! No RSA library in the build: keys are still read and checked (the formats are this
//! crate's own), but every RSA operation says which feature to turn on.

use rand_core::CryptoRngCore;

use super::{NoRsa, RsaBackend, sealed};
use crate::RsaPadding;

impl sealed::Sealed for NoRsa {}

impl RsaBackend for NoRsa {
    const DRAWS_FROM_CALLER_RNG: bool = false;
    const AVAILABLE: bool = false;

    /// The checked SubjectPublicKeyInfo, kept so the key's size and PEM still answer.
    type Public = ();

    fn public_from_spki(_spki: &[u8]) -> Option<Self::Public> {
        Some(())
    }

    fn encrypt(_: &(), _: RsaPadding, _: &mut impl CryptoRngCore, _: &[u8]) -> Option<Vec<u8>> {
        None
    }

    #[cfg(feature = "decrypt")]
    type Private = ();

    #[cfg(feature = "decrypt")]
    fn private_from_pkcs8(_der: &[u8]) -> Option<Self::Private> {
        None
    }

    #[cfg(feature = "decrypt")]
    fn generate(_rng: &mut impl CryptoRngCore, _bits: usize) -> Option<Self::Private> {
        None
    }

    #[cfg(feature = "decrypt")]
    fn public_spki(_key: &Self::Private) -> Option<Vec<u8>> {
        None
    }

    #[cfg(feature = "decrypt")]
    fn private_pkcs8(_key: &Self::Private) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        None
    }

    #[cfg(feature = "decrypt")]
    fn decrypt(_key: &Self::Private, _padding: RsaPadding, _ciphertext: &[u8]) -> Option<Vec<u8>> {
        None
    }
}
