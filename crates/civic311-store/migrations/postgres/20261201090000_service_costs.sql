-- The budget table departments keep (docs/METRICS.md, "Cost per request"): per service, the
-- labor minutes a request takes, the hourly rate of that labor and the unit cost of materials.
-- A save replaces the whole table; who saved it and when are kept on every row.
CREATE TABLE service_costs (
    service_code  TEXT PRIMARY KEY REFERENCES services (code),
    labor_minutes DOUBLE PRECISION NOT NULL CHECK (labor_minutes >= 0),
    hourly_rate   DOUBLE PRECISION NOT NULL CHECK (hourly_rate >= 0),
    unit_cost     DOUBLE PRECISION NOT NULL CHECK (unit_cost >= 0),
    saved_at      TIMESTAMPTZ NOT NULL,
    saved_by      TEXT NOT NULL
);
