-- Per-user settings for the chat fronts, and aiogram's FSM state so a restart loses nothing.
CREATE TABLE users (
    user_id     TEXT PRIMARY KEY,             -- "<front>:<id>", e.g. "telegram:42"
    ui_language TEXT,
    language    TEXT,
    voice       TEXT,
    style       TEXT,
    updated_at  TEXT NOT NULL
);

CREATE TABLE fsm (
    key         TEXT PRIMARY KEY,
    state       TEXT,
    data        TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL
);
