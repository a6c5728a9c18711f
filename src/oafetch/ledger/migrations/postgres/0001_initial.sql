-- oafetch ledger, PostgreSQL dialect, version 1 (DESIGN §7).
-- Times are double precision UNIX seconds (the same numbers as the SQLite backend, so
-- one test suite and one report read both); JSON columns are jsonb.

CREATE TABLE artifact_jobs (
    job_id          bigserial        PRIMARY KEY,
    idempotency_key text             NOT NULL,
    work            jsonb            NOT NULL,
    state           text             NOT NULL DEFAULT 'PLANNED',
    attempts        integer          NOT NULL DEFAULT 0,
    not_before      double precision,
    lease_owner     text,
    lease_until     double precision,
    lease_epoch     bigint           NOT NULL DEFAULT 0,
    outcome_class   text,
    outcome_reason  text,
    source          text,
    url             text,
    sha256          text,
    size            bigint,
    format          text,
    path            text,
    created_at      double precision NOT NULL,
    updated_at      double precision NOT NULL
);

CREATE UNIQUE INDEX artifact_jobs_idempotency_key ON artifact_jobs (idempotency_key);
CREATE INDEX artifact_jobs_claim ON artifact_jobs (state, not_before, lease_until);
CREATE INDEX artifact_jobs_sha256 ON artifact_jobs (sha256);

CREATE TABLE artifact_ops (
    op_key      text             PRIMARY KEY,
    job_id      bigint           NOT NULL REFERENCES artifact_jobs (job_id),
    op_type     text             NOT NULL,
    status      text             NOT NULL,
    started_at  double precision NOT NULL,
    finished_at double precision,
    result_code text,
    result_json jsonb
);

CREATE INDEX artifact_ops_job ON artifact_ops (job_id);
CREATE INDEX artifact_ops_status ON artifact_ops (status, started_at);

CREATE TABLE events (
    id     bigserial        PRIMARY KEY,
    run_id text             NOT NULL,
    job_id bigint,
    ts     double precision NOT NULL,
    type   text             NOT NULL,
    fields jsonb            NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX events_type ON events (type);
CREATE INDEX events_job ON events (job_id);
