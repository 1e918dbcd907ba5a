-- A request's areas leaving it (every save of a request writes its areas again) subtracted its
-- area pairs through one IN list of three UNION ALL parts, and SQLite reads such a compound list
-- by scanning the whole area_pair_rollup: 28 ms a deleted area at 200k requests, most of the
-- time of a newer extract's updates (docs/BENCHMARKS.md §6f). The same pairs as two lists of
-- one SELECT each seek the roll-up's key: the area with itself and with each area the request
-- keeps, then each area the request keeps with it. The rest of the trigger is unchanged.
DROP TRIGGER IF EXISTS rollup_area_groups_delete;
-- A bulk load that died half-way keeps the old definition to build again: this one replaces it.
DELETE FROM suspended_indexes WHERE name = 'rollup_area_groups_delete';

CREATE TRIGGER rollup_area_groups_delete AFTER DELETE ON request_areas
BEGIN
    UPDATE area_request_rollup SET requests = requests - 1, close_seconds = close_seconds -
        (SELECT coalesce(r.close_seconds, 0) FROM service_requests r WHERE r.key = OLD.request_key)
    WHERE (of_layer, of_area, period, service_code, department_code, channel, status, outcome) IN (
        SELECT OLD.layer_id, OLD.area_id, substr(r.created_at, 1, 7), r.service_code,
               coalesce(r.department_code, ''), r.channel, r.status, r.outcome
        FROM service_requests r WHERE r.key = OLD.request_key AND r.outcome IS NOT NULL);
    UPDATE area_close_rollup SET requests = requests - 1
    WHERE (of_layer, of_area, period, service_code, department_code, bin) IN (
        SELECT OLD.layer_id, OLD.area_id, substr(r.created_at, 1, 7), r.service_code,
               coalesce(r.department_code, ''), r.close_bin
        FROM service_requests r
        WHERE r.key = OLD.request_key AND r.outcome IS NOT NULL AND r.close_bin IS NOT NULL);
    -- With itself and with each area the request keeps...
    UPDATE area_pair_rollup SET requests = requests - 1
    WHERE (of_layer, of_area, period, service_code, department_code, layer_id, area_id) IN (
        SELECT OLD.layer_id, OLD.area_id, substr(r.created_at, 1, 7), r.service_code,
               coalesce(r.department_code, ''), o.layer_id, o.area_id
        FROM service_requests r JOIN (
            SELECT OLD.layer_id AS layer_id, OLD.area_id AS area_id
            UNION ALL
            SELECT layer_id, area_id FROM request_areas WHERE request_key = OLD.request_key) o
        WHERE r.key = OLD.request_key);
    -- ... and each area the request keeps with it.
    UPDATE area_pair_rollup SET requests = requests - 1
    WHERE (of_layer, of_area, period, service_code, department_code, layer_id, area_id) IN (
        SELECT o.layer_id, o.area_id, substr(r.created_at, 1, 7), r.service_code,
               coalesce(r.department_code, ''), OLD.layer_id, OLD.area_id
        FROM service_requests r JOIN request_areas o ON o.request_key = r.key
        WHERE r.key = OLD.request_key);
END;
