-- Delivery is recorded so a resumed job never posts twice; uploads so none is repeated.
CREATE TABLE deliveries (
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    target      TEXT NOT NULL,                 -- e.g. "telegram:<chat_id>", "discord:<channel>", "cli"
    state       TEXT NOT NULL,                 -- sending | sent
    message_id  TEXT,
    started_at  TEXT NOT NULL,
    sent_at     TEXT,
    PRIMARY KEY (job_id, target)
);

CREATE TABLE uploads (
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    size        INTEGER NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (job_id, key)
);
