-- What each user asked for and when: drafts (rate limit per hour) and renders (daily quota).
CREATE TABLE usage_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id    TEXT NOT NULL,                 -- "<front>:<id>", as jobs.owner_id
    kind        TEXT NOT NULL,                 -- draft | render
    job_id      TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX usage_events_owner ON usage_events (owner_id, kind, at);
