-- Version 2: ingest from an external movie API (TMDB v3): runs, their checkpoints, the index of
-- their raw responses, and the daily request quota shared by every process using this database.

CREATE TABLE ingest_runs (
    ingest_run_id INTEGER PRIMARY KEY,
    api           TEXT NOT NULL,                   -- 'tmdb'
    mode          TEXT NOT NULL CHECK (mode IN ('discover', 'changes')),
    params_json   TEXT NOT NULL,                   -- date range, details, changes_since: never credentials
    base_url      TEXT NOT NULL,
    raw_dir       TEXT NOT NULL,                   -- where this run's response files are
    started_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'completed', 'failed')),
    stop_reason   TEXT,                            -- why a stopped or failed run ended
    etl_run_id    INTEGER REFERENCES etl_runs (run_id)  -- the last load of what it fetched
);

-- Date windows a run pages through (discover: release dates; changes: ≤ 14-day change windows).
-- A window whose total_pages exceeds the API's page cap is split in two and marked 'split'.
CREATE TABLE ingest_windows (
    ingest_run_id INTEGER NOT NULL REFERENCES ingest_runs (ingest_run_id),
    kind          TEXT NOT NULL CHECK (kind IN ('discover', 'changes')),
    date_from     TEXT NOT NULL,
    date_to       TEXT NOT NULL,
    total_pages   INTEGER,                         -- known once page 1 is in
    state         TEXT NOT NULL CHECK (state IN ('pending', 'split', 'done')),
    PRIMARY KEY (ingest_run_id, kind, date_from, date_to)
) WITHOUT ROWID;

-- Pages already fetched and recorded, so a resumed run asks only for the others.
CREATE TABLE ingest_pages (
    ingest_run_id INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    date_from     TEXT NOT NULL,
    date_to       TEXT NOT NULL,
    page          INTEGER NOT NULL,
    PRIMARY KEY (ingest_run_id, kind, date_from, date_to, page),
    FOREIGN KEY (ingest_run_id, kind, date_from, date_to)
        REFERENCES ingest_windows (ingest_run_id, kind, date_from, date_to)
) WITHOUT ROWID;

-- Movies whose details a run fetches, and how that went.
CREATE TABLE ingest_items (
    ingest_run_id INTEGER NOT NULL REFERENCES ingest_runs (ingest_run_id),
    tmdb_id       INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'done', 'not_found', 'skipped')),
    PRIMARY KEY (ingest_run_id, tmdb_id)
) WITHOUT ROWID;

-- Every response received, kept in the raw zone (file = gzip'd JSON envelope, see src/ingest/raw.rs):
-- 'ok' bodies feed the load; the others (malformed JSON, 404, 429, 5xx) are kept as evidence.
CREATE TABLE ingest_responses (
    ingest_run_id INTEGER NOT NULL REFERENCES ingest_runs (ingest_run_id),
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('genres', 'discover', 'details', 'changes')),
    url           TEXT NOT NULL,                   -- without credentials
    status        INTEGER NOT NULL,
    fetched_at    TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('ok', 'malformed', 'not_found', 'error')),
    file          TEXT NOT NULL,                   -- relative to the run's raw_dir
    PRIMARY KEY (ingest_run_id, seq)
) WITHOUT ROWID;

-- Requests made per API and UTC day, reserved before each request is sent.
CREATE TABLE api_quota (
    api  TEXT NOT NULL,
    day  TEXT NOT NULL,                            -- YYYY-MM-DD, UTC
    used INTEGER NOT NULL,
    PRIMARY KEY (api, day)
) WITHOUT ROWID;
