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
        if text.starts_with("postgres://") || text.starts_with("postgresql://") || is_conninfo(text) {
            return Ok(Self::Postgres(text.to_owned()));
        }
        // Never a file named after them: a URL of another database, SQLite's in-memory and URI
        // names (a ledger that vanished with the process, or options this crate does not
        // read), and text with `=` in it that is no connection string (a mistyped one would
        // otherwise become a file named after it, password included).
        if text.contains("://") || text == ":memory:" || text.starts_with("file:") || text.contains('=') {
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

/// `scheme://user:password@host` → `scheme://user:***@host`; a `password=` parameter (of a URL's
/// query or of libpq's `key=value` form) too. The user information ends at the **last** `@`
/// after the scheme, wherever a `/`, `?` or `#` in the password puts it: the connection's
/// parser may take any of them as part of it, so a mask that stopped earlier would show the
/// rest. Masking too much (an `@` in a query) only hides the host.
pub(crate) fn mask_password(url: &str) -> String {
    let mut masked = match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                let user = user.split(['/', '?', '#']).next().unwrap_or_default();
                let stars = if userinfo.contains(':') { ":***" } else { "" };
                format!("{scheme}://{user}{stars}@{host}")
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    let mut from = 0;
    while let Some(found) = masked[from..].find("password=") {
        let value = from + found + "password=".len();
        let end = value + value_len(&masked[value..]);
        masked.replace_range(value..end, "***");
        from = value + 3;
    }
    masked
}

/// The length of a parameter's value at the start of `text`: libpq's quoted value up to its
/// closing quote (a backslash escapes the next character), or up to `&` or white space.
fn value_len(text: &str) -> usize {
    let Some(quoted) = text.strip_prefix('\'') else {
        return text.find(['&', ' ', '\t', '\n']).unwrap_or(text.len());
    };
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '\'' => return 1 + i + 1,
            _ => {}
        }
    }
    text.len()
}

/// Whether `text` is libpq's `key=value` connection string (`host=db user=juhe dbname=l`).
fn is_conninfo(text: &str) -> bool {
    const KEYS: [&str; 10] = [
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "sslmode",
        "connect_timeout",
        "application_name",
        "options",
    ];
    let first = text.split_whitespace().next().unwrap_or_default();
    first.split_once('=').is_some_and(|(key, _)| KEYS.contains(&key))
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
        for url in [
            "postgres://juhe:S3cre/tLedgerPW@127.0.0.1:1/juhe",
            "postgres://juhe:S3cre?tLedgerPW@127.0.0.1:1/juhe",
            "postgres://juhe:S3cre#tLedgerPW@127.0.0.1:1/juhe",
        ] {
            assert_eq!(mask_password(url), "postgres://juhe:***@127.0.0.1:1/juhe", "{url}");
        }
        assert_eq!(
            mask_password("host=db user=juhe password=S3cret dbname=l"),
            "host=db user=juhe password=*** dbname=l"
        );
        assert_eq!(mask_password("host=db password='a b\\' c' dbname=l"), "host=db password=*** dbname=l");
        let refused = Location::parse("mysql://u:secret@h").unwrap_err().to_string();
        assert!(!refused.contains("secret"), "{refused}");
    }

    #[test]
    fn locations() {
        assert!(Location::parse("").is_err());
        assert!(Location::parse("sqlite://").is_err());
        assert!(matches!(Location::parse("postgresql://h/db"), Ok(Location::Postgres(_))));
        assert_eq!(Location::parse("./l.db").unwrap().to_string(), "sqlite://./l.db");
        let conninfo = Location::parse("host=127.0.0.1 user=juhe password=pw dbname=juhe").unwrap();
        assert!(matches!(&conninfo, Location::Postgres(_)));
        assert_eq!(conninfo.to_string(), "host=127.0.0.1 user=juhe password=*** dbname=juhe");
        for refused in [":memory:", "file:ledger.db?mode=memory", "hots=db password=pw", "mysql://u:p@h"] {
            let error = Location::parse(refused).unwrap_err().to_string();
            assert!(!error.contains("pw") || refused == ":memory:", "{error}");
        }
    }
}
