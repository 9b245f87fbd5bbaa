-- Jobs and the stage runs that produced them.
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    origin          TEXT NOT NULL DEFAULT 'cli',      -- cli | telegram | discord | scheduled
    owner_id        TEXT,
    chat_id         TEXT,
    idempotency_key TEXT UNIQUE,
    topic           TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    language        TEXT NOT NULL,
    voice           TEXT,
    style           TEXT NOT NULL,
    script_json     TEXT,
    selection_json  TEXT,
    work_dir        TEXT NOT NULL,
    result_json     TEXT,
    error           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX jobs_state ON jobs (state, updated_at);
CREATE INDEX jobs_owner ON jobs (owner_id, created_at);

CREATE TABLE stage_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stage       TEXT NOT NULL,
    provider    TEXT,
    attempts    INTEGER NOT NULL DEFAULT 1,
    started_at  TEXT NOT NULL,
    duration_ms INTEGER,
    outcome     TEXT NOT NULL,                         -- running | ok | failed
    error       TEXT
);
CREATE INDEX stage_runs_job ON stage_runs (job_id, stage);
CREATE INDEX stage_runs_started ON stage_runs (started_at);
