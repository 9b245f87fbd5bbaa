-- Where a job's result goes when it is resumed by another process than the one that made it,
-- e.g. {"out": "/abs/folder"} for the CLI. Chat jobs need nothing here: chat_id says it.
ALTER TABLE jobs ADD COLUMN deliver_to_json TEXT;
