-- The creation-time index carries what the roll-ups count requests by, and the areas get an
-- index of creation times of their own, so that the requests of a range's ragged ends (the hours
-- between a local period's ends and the UTC days and months of the roll-ups, rollup.rs) are
-- grouped, and joined to their areas, from two runs of two indexes (index-only scans): the ends'
-- requests are a few thousand at 10M, but scattered over the whole table, and each was a page
-- read in a report read cold (docs/BENCHMARKS.md 8l).
-- (Indexes of a bulk load left suspended are built here, not by its end.)
DROP INDEX IF EXISTS service_requests_created;
DELETE FROM suspended_indexes WHERE name = 'service_requests_created';
CREATE INDEX service_requests_created ON service_requests (created_at)
    INCLUDE (service_code, department_code, channel, status, outcome, close_bin, close_seconds, key);
-- With the outcome, the open requests of a period are found by area there.
CREATE INDEX request_areas_created ON request_areas (created_at) INCLUDE (request_key, layer_id, area_id, outcome);
