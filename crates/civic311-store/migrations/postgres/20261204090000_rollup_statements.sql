-- The roll-ups are kept once per statement instead of once per row: a statement's changed rows
-- (its transition tables) are summed by group first, and the groups are written in key order.
-- A multi-row insert of an import adds ~190 groups a day instead of one upsert per request, and
-- every statement takes the roll-up rows' locks in the same order (request, close, then area
-- roll-up; each by key), so two writers that change requests of the same groups in opposite
-- directions (one closes, one reopens) wait for each other instead of deadlocking.
DROP TRIGGER rollup_request_insert ON service_requests;
DROP TRIGGER rollup_request_update ON service_requests;
DROP TRIGGER rollup_area_change ON request_areas;
DROP FUNCTION rollup_request_change();
DROP FUNCTION rollup_area_change();
DROP FUNCTION rollup_add_areas(service_requests, INTEGER);
DROP FUNCTION rollup_add_request(service_requests, INTEGER);
DROP FUNCTION rollup_add_area(TIMESTAMPTZ, TEXT, TEXT, TEXT, TEXT, INTEGER);

-- The statement's rows, n = 1 for a new row and -1 for an old one, are `changed`; a group
-- whose sums come to nothing is left alone. (A transition table is seen by the trigger's own
-- function only, so the statements are run here, with the row set chosen by TG_OP.)
CREATE FUNCTION rollup_requests_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT *, 1 AS n FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT *, -1 AS n FROM old_rows'
        ELSE 'SELECT *, 1 AS n FROM new_rows UNION ALL SELECT *, -1 FROM old_rows' END;
BEGIN
    EXECUTE format($q$
        INSERT INTO request_rollup
        SELECT g.grain, to_char(c.created_at AT TIME ZONE 'UTC', g.format), c.service_code,
               coalesce(c.department_code, ''), c.channel, c.status, c.outcome, sum(c.n),
               sum(c.n * coalesce(c.close_seconds, 0))
        FROM (%s) c, rollup_grains g WHERE c.outcome IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        HAVING sum(c.n) <> 0 OR sum(c.n * coalesce(c.close_seconds, 0)) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (grain, period, service_code, department_code, channel, status, outcome)
        DO UPDATE SET requests = request_rollup.requests + excluded.requests,
            close_seconds = request_rollup.close_seconds + excluded.close_seconds $q$, changed);
    EXECUTE format($q$
        INSERT INTO close_rollup
        SELECT g.grain, to_char(c.created_at AT TIME ZONE 'UTC', g.format), c.service_code,
               coalesce(c.department_code, ''), c.close_bin, sum(c.n)
        FROM (%s) c, rollup_grains g WHERE c.outcome IS NOT NULL AND c.close_bin IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(c.n) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (grain, period, service_code, department_code, bin)
        DO UPDATE SET requests = close_rollup.requests + excluded.requests $q$, changed);
    -- A request's areas move with its service and department. (They are inserted after it and
    -- deleted before it: their own trigger counts them then.)
    IF TG_OP = 'UPDATE' THEN
        EXECUTE format($q$
            INSERT INTO area_rollup
            SELECT g.grain, to_char(c.created_at AT TIME ZONE 'UTC', g.format), a.layer_id,
                   a.area_id, c.service_code, coalesce(c.department_code, ''), sum(c.n)
            FROM (%s) c JOIN request_areas a ON a.request_key = c.key, rollup_grains g
            GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(c.n) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (grain, period, layer_id, area_id, service_code, department_code)
            DO UPDATE SET requests = area_rollup.requests + excluded.requests $q$, changed);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_areas_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT *, 1 AS n FROM new_rows'
        ELSE 'SELECT *, -1 AS n FROM old_rows' END;
BEGIN
    EXECUTE format($q$
        INSERT INTO area_rollup
        SELECT g.grain, to_char(r.created_at AT TIME ZONE 'UTC', g.format), a.layer_id, a.area_id,
               r.service_code, coalesce(r.department_code, ''), sum(a.n)
        FROM (%s) a JOIN service_requests r ON r.key = a.request_key, rollup_grains g
        GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(a.n) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (grain, period, layer_id, area_id, service_code, department_code)
        DO UPDATE SET requests = area_rollup.requests + excluded.requests $q$, changed);
    RETURN NULL;
END $$;

CREATE TRIGGER rollup_requests_inserted AFTER INSERT ON service_requests
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_requests_changed();
CREATE TRIGGER rollup_requests_updated AFTER UPDATE ON service_requests
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_requests_changed();
CREATE TRIGGER rollup_requests_deleted AFTER DELETE ON service_requests
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_requests_changed();
CREATE TRIGGER rollup_areas_inserted AFTER INSERT ON request_areas
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_areas_changed();
CREATE TRIGGER rollup_areas_deleted AFTER DELETE ON request_areas
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_areas_changed();
