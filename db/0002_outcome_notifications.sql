-- The outcome (ready / failed) the requester was last told about. A final message that was not
-- sent yet (the bot stopped in between) is sent at start-up; one that was sent is not repeated.
ALTER TABLE requests ADD COLUMN notified_status TEXT;
