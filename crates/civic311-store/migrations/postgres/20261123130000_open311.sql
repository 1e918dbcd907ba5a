-- Open311: intake and feed sync (PostgreSQL). Keep in step with ../postgres/ of the same name.

-- A photo or document link sent with the request (Open311 media_url).
ALTER TABLE service_requests ADD COLUMN media_url TEXT;

-- API keys for clients that file requests. Only a SHA-256 of the key is kept.
CREATE TABLE api_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

-- Open311 tokens: the receipt a client gets for a request, to find its id later.
CREATE TABLE request_tokens (
    token       TEXT PRIMARY KEY,
    request_key BIGINT REFERENCES service_requests (key),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX request_tokens_by_request ON request_tokens (request_key);

-- Uploaded media (CitySDK-style multipart intake), served at /media/{id}.
CREATE TABLE media (
    id           TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    bytes        BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

-- Where a pull from another system (an Open311 feed) stopped, so the next run resumes there.
CREATE TABLE sync_cursors (
    source     TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,  -- JSON, owned by the importer
    updated_at TIMESTAMPTZ NOT NULL
);

-- Comments other systems posted (FixMyStreet sends its own update_id): a retried POST returns
-- the comment already stored instead of adding it twice.
CREATE TABLE external_updates (
    client      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    request_key BIGINT NOT NULL REFERENCES service_requests (key),
    event_seq   BIGINT NOT NULL,
    PRIMARY KEY (client, external_id)
);
