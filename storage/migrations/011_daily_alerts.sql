-- Daily reels: one row per (date, destination, slot), claimed before any work, so a day's reel
-- is made and posted once however often the scheduler fires or the process restarts.
CREATE TABLE daily_posts (
    run_date    TEXT NOT NULL,                 -- YYYY-MM-DD in the configured time zone
    destination TEXT NOT NULL,                 -- "telegram:<chat>" | "discord:<channel>"
    slot        INTEGER NOT NULL,              -- 0 .. daily_count - 1
    language    TEXT NOT NULL,
    state       TEXT NOT NULL,                 -- claimed | made | posted | failed
    job_id      TEXT REFERENCES jobs (id) ON DELETE SET NULL,
    topic       TEXT,
    source      TEXT,                          -- the trend source that gave the topic
    message_id  TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 1,
    claimed_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    posted_at   TEXT,
    PRIMARY KEY (run_date, destination, slot)
);
CREATE INDEX daily_posts_job ON daily_posts (job_id);
CREATE INDEX daily_posts_language ON daily_posts (language, run_date);

-- Admin alerts: one row per cause (fingerprint), so a restart neither forgets nor re-sends.
CREATE TABLE alerts (
    fingerprint TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,                 -- job_failed | fallback | delivery | daily | ...
    stage       TEXT NOT NULL DEFAULT '',
    provider    TEXT NOT NULL DEFAULT '',
    error_class TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,                 -- active | resolved
    first_seen  TEXT NOT NULL,                 -- of the current episode
    last_seen   TEXT NOT NULL,
    last_sent   TEXT,                          -- NULL: a DM is owed
    occurrences INTEGER NOT NULL DEFAULT 0,    -- in the current episode
    unsent      INTEGER NOT NULL DEFAULT 0,    -- occurrences since the last DM
    batch       INTEGER NOT NULL DEFAULT 0,    -- occurrences the last DM reported
    last_job_id TEXT,
    last_message TEXT,
    resolved_at TEXT
);
CREATE INDEX alerts_state ON alerts (state, kind, stage, provider);

-- What the alerter did, for the daily summary: sent, muted, recovered, undelivered.
CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL REFERENCES alerts (fingerprint) ON DELETE CASCADE,
    action      TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX alert_events_at ON alert_events (at, action);
