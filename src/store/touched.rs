//! `etl_touched`: what an ETL run's load touched of each (movie, provider), and how — the
//! temporary table settling and merging read to know which movies to derive again.

use super::sql::Db;

/// What happened to a (movie, provider) the run touched.
pub(super) const UNCHANGED: i64 = 0;
pub(super) const UPDATED: i64 = 1;
pub(super) const INSERTED: i64 = 2;
/// A movie another was merged into (under provider `''`): settled, but no record's outcome.
pub(super) const MERGED: i64 = 3;

/// `etl_touched`, what the run touched of each (movie, provider), made afresh: a temporary
/// table, dropped when the load ends (with the transaction on PostgreSQL).
pub(super) fn touched_table(db: &Db<'_>) -> String {
    let (real, rowid, drop) = if db.is_postgres() {
        ("DOUBLE PRECISION", "ON COMMIT DROP", "")
    } else {
        (
            "REAL",
            "WITHOUT ROWID",
            "DROP TABLE IF EXISTS temp.etl_touched;",
        )
    };
    format!(
        "{drop}
         CREATE TEMP TABLE etl_touched (
             MovieID    BIGINT NOT NULL,
             provider   TEXT NOT NULL,
             source_row BIGINT NOT NULL,
             votes      BIGINT NOT NULL,
             rating     {real},
             outcome    BIGINT NOT NULL,
             settled    BIGINT NOT NULL DEFAULT 0,   -- derived at insert (Presettled)
             PRIMARY KEY (MovieID, provider)
         ) {rowid};"
    )
}
