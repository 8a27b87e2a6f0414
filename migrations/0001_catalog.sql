-- Version 1: the seed's Movies table (names kept exactly, so its SQL keeps working), with extra
-- columns for lineage and the natural key, plus ETL lineage and rejects.

CREATE TABLE etl_runs (
    run_id            INTEGER PRIMARY KEY,
    source            TEXT NOT NULL,
    source_format     TEXT NOT NULL,
    source_sha256     TEXT,
    snapshot_path     TEXT,
    started_at        TEXT NOT NULL,
    finished_at       TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    extracted         INTEGER NOT NULL DEFAULT 0,
    loaded            INTEGER NOT NULL DEFAULT 0,
    inserted          INTEGER NOT NULL DEFAULT 0,
    updated           INTEGER NOT NULL DEFAULT 0,
    unchanged         INTEGER NOT NULL DEFAULT 0,
    rejected          INTEGER NOT NULL DEFAULT 0,
    rejects_by_reason TEXT NOT NULL DEFAULT '{}',  -- JSON object: reason code -> rows
    audit_json        TEXT,                        -- the full audit report of a succeeded run
    error             TEXT                         -- why a failed run failed
);

CREATE TABLE Movies (
    MovieID      INTEGER PRIMARY KEY,
    Title        TEXT NOT NULL,
    ReleaseYear  INTEGER NOT NULL,
    Rating       REAL NOT NULL CHECK (Rating BETWEEN 0 AND 10),
    TitleKey     TEXT NOT NULL,                     -- lower-cased NFC title: the natural key with ReleaseYear
    ReleaseDate  TEXT NOT NULL,                     -- ISO 8601
    Votes        INTEGER CHECK (Votes >= 0),
    Genre        TEXT,
    Director     TEXT,
    CreatedRunId INTEGER NOT NULL REFERENCES etl_runs (run_id),
    UpdatedRunId INTEGER NOT NULL REFERENCES etl_runs (run_id),
    UNIQUE (TitleKey, ReleaseYear)
);

CREATE TABLE etl_rejects (
    run_id     INTEGER NOT NULL REFERENCES etl_runs (run_id),
    source_row INTEGER NOT NULL,
    field      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    raw_value  TEXT,
    detail     TEXT,
    PRIMARY KEY (run_id, source_row, field)
) WITHOUT ROWID;

CREATE INDEX etl_rejects_by_reason ON etl_rejects (run_id, reason);
