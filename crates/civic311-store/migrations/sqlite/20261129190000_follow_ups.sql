-- Follow-up tasks for customer service officers (a call-back queue), and attachments added by
-- staff: media gain a name and a `public` flag (internal attachments are not served publicly).
CREATE TABLE follow_ups (
    id          INTEGER PRIMARY KEY,
    request_key INTEGER NOT NULL REFERENCES service_requests (key),
    reason      TEXT NOT NULL,
    note        TEXT,
    opened_at   TEXT NOT NULL,
    done_at     TEXT,
    done_by     TEXT,
    outcome     TEXT,
    CHECK ((done_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX follow_ups_open ON follow_ups (opened_at) WHERE done_at IS NULL;
CREATE INDEX follow_ups_request ON follow_ups (request_key);

ALTER TABLE media ADD COLUMN name TEXT;
ALTER TABLE media ADD COLUMN public BOOLEAN NOT NULL DEFAULT TRUE;
