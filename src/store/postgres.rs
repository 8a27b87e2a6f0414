//! PostgreSQL as the store's second engine: URLs, connections and migrations. The statements
//! themselves are shared with SQLite (`sql.rs`).
//!
//! Migrations are refinery's, from `migrations/postgres/` (versioned `V<n>__<name>.sql`, their
//! checksums kept in `refinery_schema_history`; a changed or missing applied migration is
//! refused). The schema is SQLite's at the same point, in PostgreSQL's types.

use super::sql::{args, Db, PgClient, PgConn, PgManager};
use super::StoreError;
use postgres::{Config, NoTls};
use std::str::FromStr;
use std::time::Duration;

refinery::embed_migrations!("migrations/postgres");

/// The advisory lock every writer (etl, ingest, train, prune) holds for its transaction:
/// "movierec" in ASCII, a key no other application is likely to use.
pub const WRITER_LOCK: i64 = 0x6d6f_7669_6572_6563;

/// How often a waiting writer asks for the lock again.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// Takes [`WRITER_LOCK`] for the transaction `db` is in (released when it ends). Held by
/// another writer, it waits as `wait` says — telling `wait.notify` once who holds it (the
/// holder's `application_name`, which it set to its label) — or fails at once without one.
pub fn take_writer_lock(db: &Db<'_>, wait: Option<&super::LockWait>) -> Result<(), StoreError> {
    let label = wait.map_or("movierec", |w| w.label.as_str());
    let note = format!(
        "{label} (pid {}, since {})",
        std::process::id(),
        chrono::Utc::now().format("%H:%M:%S UTC")
    );
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        let taken: bool = db.one("SELECT pg_try_advisory_xact_lock(?1)", args![WRITER_LOCK])?;
        if taken {
            // What a waiting writer is told; set for this transaction only.
            db.one::<String>(
                "SELECT set_config('application_name', ?1, true)",
                args![note.as_str()],
            )?;
            return Ok(());
        }
        let holder = holder(db)?;
        let timeout = wait.map_or(Duration::ZERO, |w| w.timeout);
        if started.elapsed() >= timeout {
            return Err(StoreError::Locked {
                path: db.one("SELECT current_database()::TEXT", args![])?,
                holder,
                waited: timeout,
            });
        }
        if let (false, Some(w)) = (told, wait) {
            (w.notify)(&holder);
            told = true;
        }
        std::thread::sleep(LOCK_POLL);
    }
}

/// Who holds [`WRITER_LOCK`] on this database (each database has its own), as its
/// `application_name` says.
fn holder(db: &Db<'_>) -> Result<String, StoreError> {
    let name: Option<String> = db
        .query_row(
            "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)
             WHERE l.locktype = 'advisory' AND l.granted
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND ((l.classid::BIGINT << 32) | l.objid::BIGINT) = ?1",
            args![WRITER_LOCK],
            |r| r.get(0),
        )?
        .flatten();
    Ok(name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "another writer".to_owned()))
}

/// Listens for [`super::sql::CHANGES`] on a thread of its own (see
/// [`super::listen_for_changes`]).
pub fn listen(
    url: PgUrl,
    wanted: impl Fn() -> bool + Send + 'static,
    on_change: impl Fn() + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("pg-listen".into())
        .spawn(move || {
            let mut backoff = Duration::from_millis(250);
            while wanted() {
                let listened = connect(&url).and_then(|mut client| {
                    client.batch_execute(&format!("LISTEN {}", super::sql::CHANGES))?;
                    backoff = Duration::from_millis(250);
                    // Whatever was announced while no one listened.
                    on_change();
                    wait_for_notifications(&mut client, &wanted, &on_change)
                });
                if let Err(e) = listened {
                    tracing::warn!(
                        error = %e,
                        retry_in_ms = backoff.as_millis() as u64,
                        "not listening for PostgreSQL's change notifications; polling meanwhile"
                    );
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the notification listener; polling only");
    }
}

/// Hands each notification to `on_change` while `wanted`; returns when it no longer is, or
/// the connection is lost.
fn wait_for_notifications(
    client: &mut postgres::Client,
    wanted: &impl Fn() -> bool,
    on_change: &impl Fn(),
) -> Result<(), StoreError> {
    while wanted() {
        let mut heard = false;
        {
            let mut notifications = client.notifications();
            let mut batch = notifications.timeout_iter(Duration::from_secs(1));
            while postgres::fallible_iterator::FallibleIterator::next(&mut batch)?.is_some() {
                heard = true;
            }
        }
        if heard {
            on_change();
        } else {
            // A quiet second: make sure the connection is still there to hear the next one.
            client.is_valid(CONNECT_TIMEOUT)?;
        }
    }
    Ok(())
}

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
        .map_err(|e| StoreError::Unreachable(format!("cannot connect to {url}: {}", describe(&e))))
}

/// Connects and brings the schema up to date.
pub fn open(url: &PgUrl) -> Result<PgClient, StoreError> {
    Ok(PgClient::Owned(PgConn::new(connect_migrated(url)?)))
}

/// The advisory lock a process holds while it migrates: two writers started at once on a
/// fresh database would otherwise both create the schema, and one fail.
const MIGRATION_LOCK: i64 = WRITER_LOCK + 1;

/// A client of a database brought up to date (one process at a time migrates; the others
/// wait, then find nothing to do).
pub fn connect_migrated(url: &PgUrl) -> Result<postgres::Client, StoreError> {
    let mut client = connect(url)?;
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let migrated = migrations::runner().run(&mut client);
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
    migrated.map_err(|source| StoreError::PostgresMigration {
        url: url.to_string(),
        source: Box::new(source),
    })?;
    Ok(client)
}

/// Connects to a database already at this version.
pub fn open_read_only(url: &PgUrl) -> Result<PgClient, StoreError> {
    let mut client = connect(url)?;
    check_version(&mut client, url)?;
    Ok(PgClient::Owned(PgConn::new(client)))
}

/// A pool of `size` connections to a database already at this version.
pub fn pool(url: &PgUrl, size: u32) -> Result<r2d2::Pool<PgManager>, StoreError> {
    check_version(&mut connect(url)?, url)?;
    let manager = PgManager((*url.config).clone());
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
