//! PostgreSQL as the store's second engine: URLs, connections and migrations. The statements
//! themselves are shared with SQLite (`sql.rs`).
//!
//! Migrations are refinery's, from `migrations/postgres/` (versioned `V<n>__<name>.sql`, their
//! checksums kept in `refinery_schema_history`; a changed or missing applied migration is
//! refused). The schema is SQLite's at the same point, in PostgreSQL's types.

use super::sql::{args, Db, PgClient};
use super::StoreError;
use postgres::{Config, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use std::str::FromStr;
use std::time::Duration;

refinery::embed_migrations!("migrations/postgres");

/// How long a connection attempt may take before it fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL URL, checked when parsed. It prints without its password (the only way it
/// is ever shown: in errors, logs and `/health`).
#[derive(Clone)]
pub struct PgUrl {
    url: String,
    config: Box<Config>,
}

impl PartialEq for PgUrl {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}
impl Eq for PgUrl {}

impl FromStr for PgUrl {
    type Err = StoreError;
    fn from_str(url: &str) -> Result<Self, StoreError> {
        let shown = redact(url);
        let mut config = Config::from_str(url).map_err(|e| {
            StoreError::BadUrl(format!("invalid PostgreSQL URL {shown}: {}", describe(&e)))
        })?;
        if config.get_hosts().is_empty() {
            return Err(StoreError::BadUrl(format!(
                "invalid PostgreSQL URL {shown}: it names no host"
            )));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("movierec");
        Ok(Self {
            url: url.to_owned(),
            config: Box::new(config),
        })
    }
}

impl std::fmt::Display for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgUrl({self})")
    }
}

/// `url` with the password of its user info as `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
            let tail = redact_query(tail);
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => format!("{scheme}://{authority}{}", redact_query(tail)),
    }
}

/// A `password=` query parameter as `***`.
fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// A driver error with its cause (the server's message, or why the connection failed), which
/// `postgres::Error`'s own text leaves out.
pub fn describe(e: &postgres::Error) -> String {
    match (e.as_db_error(), std::error::Error::source(e)) {
        (Some(db), _) => format!("{}: {}", db.severity(), db.message()),
        (None, Some(cause)) => format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    }
}

fn connect(url: &PgUrl) -> Result<postgres::Client, StoreError> {
    url.config
        .connect(NoTls)
        .map_err(|e| StoreError::BadUrl(format!("cannot connect to {url}: {}", describe(&e))))
}

/// Connects and brings the schema up to date.
pub fn open(url: &PgUrl) -> Result<PgClient, StoreError> {
    Ok(PgClient::Owned(connect_migrated(url)?))
}

/// A client of a database brought up to date.
pub fn connect_migrated(url: &PgUrl) -> Result<postgres::Client, StoreError> {
    let mut client = connect(url)?;
    migrations::runner()
        .run(&mut client)
        .map_err(|source| StoreError::PostgresMigration {
            url: url.to_string(),
            source: Box::new(source),
        })?;
    Ok(client)
}

/// Connects to a database already at this version.
pub fn open_read_only(url: &PgUrl) -> Result<PgClient, StoreError> {
    let mut client = connect(url)?;
    check_version(&mut client, url)?;
    Ok(PgClient::Owned(client))
}

/// A pool of `size` connections to a database already at this version.
pub fn pool(
    url: &PgUrl,
    size: u32,
) -> Result<r2d2::Pool<PostgresConnectionManager<NoTls>>, StoreError> {
    check_version(&mut connect(url)?, url)?;
    let manager = PostgresConnectionManager::new((*url.config).clone(), NoTls);
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(CONNECT_TIMEOUT)
        .build(manager)?)
}

/// The newest migration applied, 0 for none.
pub fn schema_version(db: &Db<'_>) -> Result<i64, StoreError> {
    let exists: bool = db.one(
        "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
        args![],
    )?;
    if !exists {
        return Ok(0);
    }
    db.one(
        "SELECT COALESCE(MAX(version), 0)::BIGINT FROM refinery_schema_history",
        args![],
    )
}

fn known() -> usize {
    migrations::runner().get_migrations().len()
}

fn check_version(client: &mut postgres::Client, url: &PgUrl) -> Result<(), StoreError> {
    let path = std::path::PathBuf::from(url.to_string());
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )?
        .get(0);
    let found: i64 = if exists {
        client
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM refinery_schema_history",
                &[],
            )?
            .get(0)
    } else {
        0
    };
    let known = known();
    match found {
        0 => Err(StoreError::NotFound { path }),
        f if f > known as i64 => Err(StoreError::TooNew {
            path,
            found: f,
            known,
        }),
        f if f < known as i64 => Err(StoreError::TooOld {
            path,
            found: f,
            known,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_print_without_their_password() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@db.example:5432/movies?sslmode=disable",
                "postgres://app:***@db.example:5432/movies?sslmode=disable",
            ),
            ("postgresql://app@db/movies", "postgresql://app@db/movies"),
            (
                "postgres://db/movies?user=app&password=s3cret",
                "postgres://db/movies?user=app&password=***",
            ),
            ("postgres://a:p@ss@db/m", "postgres://a:***@db/m"),
        ] {
            let parsed: PgUrl = url.parse().expect(url);
            assert_eq!(parsed.to_string(), shown);
            assert!(!format!("{parsed:?}").contains("s3cret"));
        }
    }

    #[test]
    fn a_malformed_url_is_named_without_its_password() {
        for url in [
            "postgres://app:s3cret@db:notaport/movies",
            "postgres://app:s3cret@/movies",
        ] {
            let err = url.parse::<PgUrl>().expect_err(url).to_string();
            assert!(
                err.contains("invalid PostgreSQL URL postgres://app:***@"),
                "{err}"
            );
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
