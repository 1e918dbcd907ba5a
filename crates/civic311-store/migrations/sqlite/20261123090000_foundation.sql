-- civic311 foundation schema (SQLite). Keep in step with ../postgres/ of the same name.

CREATE TABLE departments (
    code  TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    email TEXT,
    phone TEXT
);

CREATE TABLE services (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT,
    service_group   TEXT,
    keywords        TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    department_code TEXT REFERENCES departments (code),
    attributes      TEXT NOT NULL DEFAULT '[]',  -- JSON array of attribute definitions
    sla_amount      INTEGER CHECK (sla_amount > 0),
    sla_unit        TEXT CHECK (sla_unit IN ('calendar_days', 'business_days', 'business_hours')),
    active          INTEGER NOT NULL DEFAULT 1,
    CHECK ((sla_amount IS NULL) = (sla_unit IS NULL))
);

CREATE TABLE service_requests (
    key             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    service_code    TEXT NOT NULL REFERENCES services (code),
    status          TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'on_hold', 'closed')),
    status_reason   TEXT,
    priority        TEXT NOT NULL,
    description     TEXT,
    lat             REAL CHECK (lat BETWEEN -90 AND 90),
    long            REAL CHECK (long BETWEEN -180 AND 180),
    address         TEXT,
    address_id      TEXT,
    zip             TEXT,
    channel         TEXT NOT NULL,
    department_code TEXT,
    assignee        TEXT,
    due_at          TEXT,
    parent_key      INTEGER REFERENCES service_requests (key),
    attributes      TEXT NOT NULL DEFAULT '[]',  -- JSON array of attribute answers
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    closed_at       TEXT,
    version         INTEGER NOT NULL DEFAULT 0,
    -- A closed request always carries its closure reason; open and in-progress ones never do.
    CHECK ((status IN ('open', 'in_progress')) = (status_reason IS NULL)),
    CHECK (status = 'closed' OR closed_at IS NULL),
    CHECK ((lat IS NULL) = (long IS NULL))
);
CREATE INDEX service_requests_created ON service_requests (created_at);
CREATE INDEX service_requests_updated ON service_requests (updated_at);
CREATE INDEX service_requests_service ON service_requests (service_code, created_at);
CREATE INDEX service_requests_status ON service_requests (status, created_at);
CREATE INDEX service_requests_parent ON service_requests (parent_key) WHERE parent_key IS NOT NULL;

-- Personal data lives apart from the request so public queries never touch it.
CREATE TABLE requesters (
    request_key     INTEGER PRIMARY KEY REFERENCES service_requests (key),
    first_name      TEXT,
    last_name       TEXT,
    email           TEXT,
    phone           TEXT,
    account_id      TEXT,
    device_id       TEXT,
    consent_contact INTEGER NOT NULL DEFAULT 0,
    consent_survey  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE area_layers (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE areas (
    layer_id TEXT NOT NULL REFERENCES area_layers (id),
    area_id  TEXT NOT NULL,
    name     TEXT,
    geometry TEXT,  -- GeoJSON geometry, WGS84
    PRIMARY KEY (layer_id, area_id)
);

CREATE TABLE request_areas (
    request_key INTEGER NOT NULL REFERENCES service_requests (key),
    layer_id    TEXT NOT NULL,
    area_id     TEXT NOT NULL,
    PRIMARY KEY (request_key, layer_id)
) WITHOUT ROWID;
CREATE INDEX request_areas_by_area ON request_areas (layer_id, area_id);

-- The append-only history of every request.
CREATE TABLE request_events (
    seq         INTEGER PRIMARY KEY,
    request_key INTEGER NOT NULL REFERENCES service_requests (key),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL  -- JSON of the event kind, with its "type"
);
CREATE INDEX request_events_by_request ON request_events (request_key, seq);
CREATE INDEX request_events_by_kind ON request_events (kind, at);

CREATE TRIGGER request_events_append_only_update BEFORE UPDATE ON request_events
BEGIN
    SELECT RAISE(ABORT, 'request_events is append-only');
END;
CREATE TRIGGER request_events_append_only_delete BEFORE DELETE ON request_events
BEGIN
    SELECT RAISE(ABORT, 'request_events is append-only');
END;

CREATE TABLE informational_contacts (
    id            INTEGER PRIMARY KEY,
    topic         TEXT NOT NULL,
    channel       TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    duration_secs INTEGER CHECK (duration_secs >= 0),
    article       TEXT,
    answered_by   TEXT,
    area_layer    TEXT,
    area_id       TEXT,
    request_id    TEXT
);
CREATE INDEX informational_contacts_started ON informational_contacts (started_at);

-- Counters for ids the city hands out (SQLite has no sequences).
CREATE TABLE id_counters (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);
INSERT INTO id_counters (name, next) VALUES ('service_request', 1);
