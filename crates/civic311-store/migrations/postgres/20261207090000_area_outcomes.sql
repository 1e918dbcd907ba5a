-- Each placed request's outcome code (rollup.rs) kept beside its areas, as its creation time is
-- (20261205090000_area_times.sql), so that an area's requests of a period with an outcome (a
-- neighborhood's closed requests of a year, the list behind a number of its dashboard) are
-- found, counted and paged from the area's index alone, without reading each request
-- (docs/BENCHMARKS.md §8h: 85,826 requests read to list a neighborhood's closed year at 10M).
-- Written with the areas, which every save of a request writes again (requests.rs); an outcome
-- changed in place (computed for a store of an earlier version) reaches them by the trigger.
ALTER TABLE request_areas ADD COLUMN outcome SMALLINT;
UPDATE request_areas a SET outcome = r.outcome FROM service_requests r WHERE r.key = a.request_key;
DROP INDEX request_areas_by_area;
CREATE INDEX request_areas_by_area ON request_areas (layer_id, area_id, created_at, request_key)
    INCLUDE (outcome);
CREATE FUNCTION request_areas_outcome() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    UPDATE request_areas SET outcome = NEW.outcome WHERE request_key = NEW.key;
    RETURN NULL;
END $$;
CREATE TRIGGER request_areas_outcome AFTER UPDATE OF outcome ON service_requests
    FOR EACH ROW WHEN (OLD.outcome IS DISTINCT FROM NEW.outcome) EXECUTE FUNCTION request_areas_outcome();
