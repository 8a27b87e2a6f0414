-- Models trained on the ratings (`movierec train`): one row per fit; the fitted model is the
-- artifact file under the data directory, checked against its SHA-256 when loaded.
CREATE TABLE models (
    model_id        INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('item-knn', 'svd', 'svd++', 'als', 'ease')),
    trained_at      TEXT NOT NULL,
    data_hash       TEXT NOT NULL,
    run_id          INTEGER REFERENCES etl_runs (run_id),
    params          TEXT NOT NULL,                 -- JSON
    metrics         TEXT NOT NULL,                 -- JSON: held-out figures
    ratings         INTEGER NOT NULL,
    users           INTEGER NOT NULL,
    movies          INTEGER NOT NULL,
    fit_seconds     REAL NOT NULL,
    artifact        TEXT NOT NULL,                 -- path under the data directory
    artifact_sha256 TEXT NOT NULL,
    bytes           INTEGER NOT NULL
);
CREATE INDEX models_by_kind ON models (kind, model_id);
