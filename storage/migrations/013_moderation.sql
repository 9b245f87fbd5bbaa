-- Issue 13: every refusal of the moderation check, for admins' stats and the daily summary.
-- The refused text itself is not kept: a category, what was checked and who asked is enough.
CREATE TABLE moderation_refusals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    owner_id TEXT,
    kind TEXT NOT NULL,        -- topic | script | edit | draft | trend
    category TEXT NOT NULL,    -- S1..S14, or "other" when the moderator named none
    moderator TEXT NOT NULL,   -- groq | gemini | local
    job_id TEXT
);
CREATE INDEX moderation_refusals_at ON moderation_refusals (at);
