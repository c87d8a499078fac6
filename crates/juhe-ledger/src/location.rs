//! Where a ledger lives: a SQLite file or a PostgreSQL database.

use std::fmt;
use std::path::PathBuf;

use crate::LedgerError;

/// A ledger's location, as `--ledger` and `JUHE_LEDGER` take it: a path, `sqlite://PATH`, or a
/// `postgres://` (`postgresql://`) URL. `Display` masks a URL's password.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Location {
    /// Reads a location.
    ///
    /// ```
    /// use juhe_ledger::Location;
    /// assert_eq!(Location::parse("ledger.sqlite")?, Location::Sqlite("ledger.sqlite".into()));
    /// assert_eq!(Location::parse("sqlite:///var/lib/juhe.db")?, Location::Sqlite("/var/lib/juhe.db".into()));
    /// let pg = Location::parse("postgres://juhe:s3cret@db.internal/ledger")?;
    /// assert_eq!(pg.to_string(), "postgres://juhe:***@db.internal/ledger");
    /// assert!(Location::parse("redis://cache").is_err());
    /// # Ok::<(), juhe_ledger::LedgerError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let refused = || LedgerError::Location(mask_password(text));
        if text.trim().is_empty() {
            return Err(refused());
        }
        if let Some(path) = text.strip_prefix("sqlite://") {
            return if path.is_empty() { Err(refused()) } else { Ok(Self::Sqlite(path.into())) };
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Self::Postgres(text.to_owned()));
        }
        if text.contains("://") {
            return Err(refused());
        }
        Ok(Self::Sqlite(text.into()))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => f.write_str(&mask_password(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// `scheme://user:password@host` → `scheme://user:***@host`; a `password=` parameter too.
pub(crate) fn mask_password(url: &str) -> String {
    let mut masked = match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                    let stars = if userinfo.contains(':') { ":***" } else { "" };
                    format!("{scheme}://{user}{stars}@{host}{tail}")
                }
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    if let Some(at) = masked.find("password=") {
        let end = masked[at..].find('&').map_or(masked.len(), |e| at + e);
        masked.replace_range(at..end, "password=***");
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            mask_password("postgres://u:p@h:5432/db?sslmode=disable"),
            "postgres://u:***@h:5432/db?sslmode=disable"
        );
        assert_eq!(mask_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            mask_password("postgres://h/db?user=u&password=p&x=1"),
            "postgres://h/db?user=u&password=***&x=1"
        );
        assert_eq!(mask_password("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        let refused = Location::parse("mysql://u:secret@h").unwrap_err().to_string();
        assert!(!refused.contains("secret"), "{refused}");
    }

    #[test]
    fn locations() {
        assert!(Location::parse("").is_err());
        assert!(Location::parse("sqlite://").is_err());
        assert!(matches!(Location::parse("postgresql://h/db"), Ok(Location::Postgres(_))));
        assert_eq!(Location::parse("./l.db").unwrap().to_string(), "sqlite://./l.db");
    }
}
