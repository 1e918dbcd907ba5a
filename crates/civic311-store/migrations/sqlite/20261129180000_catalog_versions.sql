-- A managed catalog: SLA targets per priority, and every saved change to departments and
-- services kept as a numbered version (the whole catalog after the change, who, when, what).
-- Requests keep the due date they were given, so a new version never rewrites past requests.
ALTER TABLE services ADD COLUMN sla_by_priority TEXT NOT NULL DEFAULT '{}';

CREATE TABLE catalog_versions (
    version  INTEGER PRIMARY KEY,
    catalog  TEXT NOT NULL,
    summary  TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    saved_by TEXT NOT NULL
);
