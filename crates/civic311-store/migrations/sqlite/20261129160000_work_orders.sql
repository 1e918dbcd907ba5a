-- Work orders in external field systems, and the transactional outbox that hands them over:
-- a message is written in the same transaction as the change that causes it, then delivered at
-- least once (same idempotency key on every attempt), with backoff, until delivered or dead.

CREATE TABLE work_orders (
    id           TEXT PRIMARY KEY,
    request_key  INTEGER NOT NULL REFERENCES service_requests (key),
    system       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'in_progress', 'completed', 'cancelled', 'failed')),
    external_id  TEXT,
    instructions TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (system, external_id)
);
CREATE INDEX work_orders_request ON work_orders (request_key);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    topic           TEXT NOT NULL,
    destination     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    leased_by       TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';

-- Signed updates received from field systems, by their delivery id: a replay is acknowledged
-- and ignored.
CREATE TABLE webhook_receipts (
    system      TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (system, delivery_id)
);
