-- The budget table in versions by fiscal year: each version takes effect on a local date (the
-- first day of its fiscal year) and replaces the one before it from then on. The table kept
-- until now becomes the version in force since always (1900-01-01).
CREATE TABLE service_costs_by_year (
    effective_from TEXT NOT NULL,
    service_code   TEXT NOT NULL REFERENCES services (code),
    labor_minutes  REAL NOT NULL CHECK (labor_minutes >= 0),
    hourly_rate    REAL NOT NULL CHECK (hourly_rate >= 0),
    unit_cost      REAL NOT NULL CHECK (unit_cost >= 0),
    saved_at       TEXT NOT NULL,
    saved_by       TEXT NOT NULL,
    PRIMARY KEY (effective_from, service_code)
);
INSERT INTO service_costs_by_year
    SELECT '1900-01-01', service_code, labor_minutes, hourly_rate, unit_cost, saved_at, saved_by
    FROM service_costs;
DROP TABLE service_costs;
ALTER TABLE service_costs_by_year RENAME TO service_costs;
