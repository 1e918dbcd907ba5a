-- The budget table in versions by fiscal year: each version takes effect on a local date (the
-- first day of its fiscal year) and replaces the one before it from then on. The table kept
-- until now becomes the version in force since always (1900-01-01).
ALTER TABLE service_costs ADD COLUMN effective_from DATE NOT NULL DEFAULT '1900-01-01';
ALTER TABLE service_costs ALTER COLUMN effective_from DROP DEFAULT;
ALTER TABLE service_costs DROP CONSTRAINT service_costs_pkey;
ALTER TABLE service_costs ADD PRIMARY KEY (effective_from, service_code);
