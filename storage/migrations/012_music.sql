-- Issue 14: whether a user wants a music bed under their reels (NULL: not chosen, the
-- deployment's default applies).
ALTER TABLE users ADD COLUMN music INTEGER;
