-- Issue 13 §3: a user's linked account on a platform (YouTube), and what was posted there.
-- The refresh token is stored encrypted (Fernet, pipeline.youtube); SQLite never sees it clear.
CREATE TABLE connections (
    platform TEXT NOT NULL,           -- youtube
    owner_id TEXT NOT NULL,           -- telegram:123, discord:456
    token BLOB NOT NULL,              -- the encrypted refresh token
    channel_id TEXT,
    channel_title TEXT,
    privacy TEXT NOT NULL DEFAULT 'private',  -- the owner's choice for their uploads
    connected_at TEXT NOT NULL,
    PRIMARY KEY (platform, owner_id)
);
-- One post per (job, platform, channel): claimed before the upload starts, with the resumable
-- session once there is one (a restart finishes it instead of uploading again), and the video.
CREATE TABLE platform_posts (
    job_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    state TEXT NOT NULL,              -- posting | posted
    session_uri TEXT,
    video_id TEXT,
    url TEXT,
    privacy TEXT,
    started_at TEXT NOT NULL,
    posted_at TEXT,
    PRIMARY KEY (job_id, platform, channel)
);
