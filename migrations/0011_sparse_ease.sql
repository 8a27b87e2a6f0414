-- Version 11: sparse EASE^R (`sparse-ease`) is a model kind. SQLite cannot change a CHECK
-- constraint in place: the table is rebuilt with the same rows and index.
CREATE TABLE models_v11 (
    model_id        INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL
                    CHECK (kind IN ('item-knn', 'svd', 'svd++', 'als', 'ease', 'sparse-ease')),
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
INSERT INTO models_v11 SELECT * FROM models;
DROP TABLE models;
ALTER TABLE models_v11 RENAME TO models;
CREATE INDEX models_by_kind ON models (kind, model_id);
