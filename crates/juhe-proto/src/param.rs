//! Form parameters: what supplies each one's value.

use std::fmt;

use crate::Param;

/// What supplies a [`Param`]'s value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParamKind {
    /// The account's credentials (`key`).
    Credential,
    /// The person being checked: encrypted as the endpoint's encoding says.
    Personal,
    /// The same value on every request (`orderid=1`).
    Constant,
    /// Computed from the others while encoding (`sign`, `aesKey`).
    Derived,
}

/// What a caller gives for a personal [`Param`] ([`Param::input`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParamInput {
    /// Text (a name, a number).
    Text,
    /// A file's bytes (a photo); the CLI reads them from a path.
    Bytes,
}

impl fmt::Display for Param {
    /// The wire name: `realname`, `aesKey`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_exactly() {
        for param in Param::ALL {
            assert_eq!(Param::from_wire_name(param.wire_name()), Some(param));
        }
        assert_eq!(Param::from_wire_name("aeskey"), None, "Juhe's names are case-sensitive");
        assert_eq!(Param::AesKey.to_string(), "aesKey");
    }
}
