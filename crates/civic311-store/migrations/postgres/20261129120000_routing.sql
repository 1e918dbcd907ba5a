-- Routing tables (rules by service, area and time of day, and the fallback queue), versioned:
-- saving a table adds a version, the newest one routes new requests. Requests keep the name of
-- the rule that routed them in their history, so past routing is never rewritten.
CREATE TABLE routing_tables (
    version  BIGINT PRIMARY KEY,
    routing  JSONB NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    saved_by TEXT NOT NULL
);
