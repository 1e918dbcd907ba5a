-- The creation time of each placed request, kept beside its areas, so that the requests of one
-- area in a period come from one range of an index (a summary filtered by area reads them there:
-- rollup.rs) instead of every request the area ever had. Written with the areas, which every save
-- of a request writes again (requests.rs), so it follows the request's own creation time.
ALTER TABLE request_areas ADD COLUMN created_at TEXT;
UPDATE request_areas SET created_at =
    (SELECT r.created_at FROM service_requests r WHERE r.key = request_areas.request_key);
DROP INDEX request_areas_by_area;
CREATE INDEX request_areas_by_area ON request_areas (layer_id, area_id, created_at);
