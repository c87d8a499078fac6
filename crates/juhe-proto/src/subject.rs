//! A check's subject: who is checked for what, as a keyed hash of the product and the
//! normalised personal fields. Two checks have one subject exactly when Juhe would be asked the
//! same question; the subject reveals nobody's data to whoever lacks the key.

use std::fmt;

use juhe_crypto::rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::{Check, Param, ParamKind};

/// The secret a subject is hashed under: random per batch, or derived and kept by a ledger.
/// Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct SubjectKey([u8; 32]);

impl SubjectKey {
    /// A fresh random key from the operating system's generator: subjects under it are
    /// comparable only with each other.
    pub fn generate() -> Self {
        Self::random(&mut juhe_crypto::rand_core::OsRng)
    }

    /// [`generate`](Self::generate) from `rng`: a seeded one repeats the key, for tests.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        let mut key = [0; 32];
        rng.fill_bytes(&mut key);
        Self(key)
    }

    /// A key from 32 bytes of secret material.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl Drop for SubjectKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

/// The subject of a check: HMAC-SHA256, under a [`SubjectKey`], of a version label, the
/// product's name and each personal field's wire name and value (length-prefixed, in the
/// order of [`Param::ALL`]). Fields are hashed as validated, so `11010519491231002x` and
/// `11010519491231002X`, or `+86 139 1234 5678` and `13912345678`, are one subject.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject([u8; 32]);

impl Subject {
    /// The subject of `check` under `key`.
    pub fn of<C: Check>(check: &C, key: &SubjectKey) -> Self {
        let fields: Vec<(Param, std::borrow::Cow<'_, str>)> = Param::ALL
            .into_iter()
            .filter(|p| p.kind() == ParamKind::Personal)
            .filter_map(|p| Some((p, check.field(p)?)))
            .collect();
        let mut parts: Vec<&[u8]> = vec![b"juhe-subject-v1", check.product().name().as_bytes()];
        for (param, value) in &fields {
            parts.push(param.wire_name().as_bytes());
            parts.push(value.as_bytes());
        }
        Self(juhe_crypto::keyed_hash(&key.0, &parts))
    }

    /// The hash's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 128 bits, where memory counts (a batch keeps one per check in flight or
    /// billed): two distinct subjects share them with probability 2^-128.
    pub fn short(&self) -> u128 {
        let mut half = [0; 16];
        half.copy_from_slice(&self.0[..16]);
        u128::from_be_bytes(half)
    }
}

impl fmt::Debug for Subject {
    /// The first 8 hex digits: enough to tell subjects apart in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject({:08x}…)", u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CivilDate, IdCardCheck, Telecom2Check, Telecom3Check};

    fn today() -> CivilDate {
        CivilDate::new(2026, 12, 1).unwrap()
    }

    fn key() -> SubjectKey {
        SubjectKey::from_bytes([7; 32])
    }

    #[test]
    fn one_subject_for_one_question_after_normalisation() {
        let a = Telecom3Check::new_on("张三", "11010519491231002X", "13912345678", today()).unwrap();
        let b = Telecom3Check::new_on(" 张三", "11010519491231002x", "+86 139-1234-5678", today()).unwrap();
        assert_eq!(Subject::of(&a, &key()), Subject::of(&b, &key()));
        let other = Telecom3Check::new_on("张三", "11010519491231002X", "13912345679", today()).unwrap();
        assert_ne!(Subject::of(&a, &key()), Subject::of(&other, &key()));
        assert_ne!(Subject::of(&a, &key()), Subject::of(&a, &SubjectKey::from_bytes([8; 32])));
    }

    #[test]
    fn the_product_is_part_of_the_subject() {
        let idcard = IdCardCheck::new_on("张三", "11010519491231002X", today()).unwrap();
        let telecom3 = Telecom3Check::new_on("张三", "11010519491231002X", "13912345678", today()).unwrap();
        let telecom2 = Telecom2Check::new_on("11010519491231002X", "13912345678", today()).unwrap();
        let subjects =
            [Subject::of(&idcard, &key()), Subject::of(&telecom2, &key()), Subject::of(&telecom3, &key())];
        assert_ne!(subjects[0], subjects[1]);
        assert_ne!(subjects[1], subjects[2]);
    }

    #[test]
    fn debug_shows_neither_the_key_nor_the_whole_hash() {
        let subject =
            Subject::of(&IdCardCheck::new_on("张三", "11010519491231002X", today()).unwrap(), &key());
        assert_eq!(format!("{:?}", key()), "SubjectKey(..)");
        assert_eq!(format!("{subject:?}").len(), "Subject(01234567…)".len());
    }
}
