-- oafetch ledger, SQLite dialect, version 1 (DESIGN §7).
-- Times are REAL UNIX seconds from the ledger's clock; JSON columns are TEXT.

CREATE TABLE artifact_jobs (
    job_id          INTEGER PRIMARY KEY,
    idempotency_key TEXT    NOT NULL,
    work            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'PLANNED',
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      REAL,
    lease_owner     TEXT,
    lease_until     REAL,
    lease_epoch     INTEGER NOT NULL DEFAULT 0,
    outcome_class   TEXT,
    outcome_reason  TEXT,
    source          TEXT,
    url             TEXT,
    sha256          TEXT,
    size            INTEGER,
    format          TEXT,
    path            TEXT,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL
);

CREATE UNIQUE INDEX artifact_jobs_idempotency_key ON artifact_jobs (idempotency_key);
CREATE INDEX artifact_jobs_claim ON artifact_jobs (state, not_before, lease_until);
CREATE INDEX artifact_jobs_sha256 ON artifact_jobs (sha256);

CREATE TABLE artifact_ops (
    op_key      TEXT    PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES artifact_jobs (job_id),
    op_type     TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    started_at  REAL    NOT NULL,
    finished_at REAL,
    result_code TEXT,
    result_json TEXT
);

CREATE INDEX artifact_ops_job ON artifact_ops (job_id);
CREATE INDEX artifact_ops_status ON artifact_ops (status, started_at);

CREATE TABLE events (
    id     INTEGER PRIMARY KEY,
    run_id TEXT    NOT NULL,
    job_id INTEGER,
    ts     REAL    NOT NULL,
    type   TEXT    NOT NULL,
    fields TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX events_type ON events (type);
CREATE INDEX events_job ON events (job_id);
