-- Roll-ups by area: the requests of each area (`of_layer`, `of_area`) counted per UTC month of
-- creation ('YYYY-MM') by what the metrics tell apart, so that a summary of one area over a year
-- reads its groups instead of its requests (docs/METRICS.md, "Roll-ups"). Months only: the
-- ragged ends of a range are read from the area's requests (rollup.rs, signed pieces).
-- Kept per statement by the triggers below, after the other roll-ups' (triggers of an event
-- fire in the order of their names, so every statement locks roll-up rows in one order): a
-- request's areas are inserted after it and deleted before it, and a change of the request
-- itself moves its areas' counts. A bulk load drops them with the others and
-- Store::rebuild_rollups counts everything again.

-- As request_rollup, for the requests of one area.
CREATE TABLE area_request_rollup (
    of_layer        TEXT NOT NULL,
    of_area         TEXT NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,  -- '' for none
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    outcome         SMALLINT NOT NULL,
    requests        BIGINT NOT NULL,
    close_seconds   BIGINT NOT NULL,  -- their sum
    PRIMARY KEY (of_layer, of_area, period, service_code, department_code, channel, status, outcome)
);

-- As close_rollup, for the requests of one area.
CREATE TABLE area_close_rollup (
    of_layer        TEXT NOT NULL,
    of_area         TEXT NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,
    bin             BIGINT NOT NULL,
    requests        BIGINT NOT NULL,
    PRIMARY KEY (of_layer, of_area, period, service_code, department_code, bin)
);

-- The requests of one area by their area (`layer_id`, `area_id`) in every layer, its own
-- included (there it counts every request of the area, whether its outcome is known or not).
CREATE TABLE area_pair_rollup (
    of_layer        TEXT NOT NULL,
    of_area         TEXT NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,
    layer_id        TEXT NOT NULL,
    area_id         TEXT NOT NULL,
    requests        BIGINT NOT NULL,
    PRIMARY KEY (of_layer, of_area, period, service_code, department_code, layer_id, area_id)
);

-- The statements that add `counted` (layer_id, area_id, n: 1 or -1, and the request's columns:
-- a request counted in an area) to the groups and close-time bins of its areas, and `pairs`
-- (of_layer, of_area, layer_id, area_id, n and the request's columns) to the pairs. Run by the
-- trigger functions themselves: a statement's transition tables are seen by its trigger's own
-- function only.
CREATE FUNCTION rollup_area_statements(counted TEXT, pairs TEXT) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE AS $f$
    SELECT ARRAY[
        format($q$
            INSERT INTO area_request_rollup
            SELECT c.layer_id, c.area_id, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM'),
                   c.service_code, coalesce(c.department_code, ''), c.channel, c.status, c.outcome,
                   sum(c.n), sum(c.n * coalesce(c.close_seconds, 0))
            FROM (%s) c WHERE c.outcome IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
            HAVING sum(c.n) <> 0 OR sum(c.n * coalesce(c.close_seconds, 0)) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
            ON CONFLICT (of_layer, of_area, period, service_code, department_code, channel, status, outcome)
            DO UPDATE SET requests = area_request_rollup.requests + excluded.requests,
                close_seconds = area_request_rollup.close_seconds + excluded.close_seconds $q$, counted),
        format($q$
            INSERT INTO area_close_rollup
            SELECT c.layer_id, c.area_id, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM'),
                   c.service_code, coalesce(c.department_code, ''), c.close_bin, sum(c.n)
            FROM (%s) c WHERE c.outcome IS NOT NULL AND c.close_bin IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(c.n) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (of_layer, of_area, period, service_code, department_code, bin)
            DO UPDATE SET requests = area_close_rollup.requests + excluded.requests $q$, counted),
        format($q$
            INSERT INTO area_pair_rollup
            SELECT p.of_layer, p.of_area, to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM'),
                   p.service_code, coalesce(p.department_code, ''), p.layer_id, p.area_id, sum(p.n)
            FROM (%s) p GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(p.n) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6, 7
            ON CONFLICT (of_layer, of_area, period, service_code, department_code, layer_id, area_id)
            DO UPDATE SET requests = area_pair_rollup.requests + excluded.requests $q$, pairs)]
$f$;

-- Areas placed or removed: their requests counted in them, and paired with the request's other
-- areas both ways. Inserted, a new area pairs with every area of its request (itself and the
-- other new ones included) and each area kept before pairs with it; deleted, an old one
-- unpairs from every area kept and from every old one (itself included), and each area kept
-- from it.
CREATE FUNCTION rollup_area_groups_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT a.request_key, a.layer_id, a.area_id, 1 AS n FROM new_rows a'
        ELSE 'SELECT a.request_key, a.layer_id, a.area_id, -1 AS n FROM old_rows a' END;
    statement TEXT;
BEGIN
    FOREACH statement IN ARRAY rollup_area_statements(format(
        'SELECT a.layer_id, a.area_id, a.n, r.* FROM (%s) a JOIN service_requests r ON r.key = a.request_key',
        changed), format($q$
        SELECT a.layer_id AS of_layer, a.area_id AS of_area, o.layer_id, o.area_id, a.n, r.*
        FROM (%1$s) a JOIN request_areas o ON o.request_key = a.request_key
        JOIN service_requests r ON r.key = a.request_key
        UNION ALL
        SELECT o.layer_id, o.area_id, a.layer_id, a.area_id, a.n, r.*
        FROM (%1$s) a JOIN request_areas o ON o.request_key = a.request_key
        JOIN service_requests r ON r.key = a.request_key
        WHERE NOT EXISTS (SELECT 1 FROM (%1$s) x
                          WHERE x.request_key = o.request_key AND x.layer_id = o.layer_id)
        UNION ALL
        SELECT a.layer_id, a.area_id, b.layer_id, b.area_id, a.n, r.*
        FROM (%1$s) a JOIN (%1$s) b ON b.request_key = a.request_key
        JOIN service_requests r ON r.key = a.request_key
        WHERE %2$L = 'DELETE' $q$, changed, TG_OP)) LOOP
        EXECUTE statement;
    END LOOP;
    RETURN NULL;
END $$;

-- Requests changed: each moves in its areas, and in its pairs of areas only when its service or
-- department changed (a closed request's pairs are not summed to nothing). An UPDATE that
-- changes nothing counted returns at once.
CREATE FUNCTION rollup_area_requests_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := 'SELECT *, 1 AS n FROM new_rows UNION ALL SELECT *, -1 FROM old_rows';
    statement TEXT;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM new_rows n FULL JOIN old_rows o ON o.key = n.key
        WHERE n.key IS NULL OR o.key IS NULL
           OR (n.created_at, n.service_code, n.department_code, n.channel, n.status, n.outcome,
               n.close_seconds, n.close_bin)
              IS DISTINCT FROM
              (o.created_at, o.service_code, o.department_code, o.channel, o.status, o.outcome,
               o.close_seconds, o.close_bin)) THEN
        RETURN NULL;
    END IF;
    FOREACH statement IN ARRAY rollup_area_statements(format(
        'SELECT a.layer_id, a.area_id, c.* FROM (%s) c JOIN request_areas a ON a.request_key = c.key',
        changed), format(
        'SELECT a.layer_id AS of_layer, a.area_id AS of_area, o.layer_id, o.area_id, c.* FROM (%s) c '
        'JOIN request_areas a ON a.request_key = c.key JOIN request_areas o ON o.request_key = c.key '
        'WHERE EXISTS (SELECT 1 FROM new_rows n JOIN old_rows p ON p.key = n.key WHERE n.key = c.key '
        'AND (n.service_code, n.department_code) IS DISTINCT FROM (p.service_code, p.department_code))',
        changed)) LOOP
        EXECUTE statement;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER rollup_areas_inserted_groups AFTER INSERT ON request_areas
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_area_groups_changed();
CREATE TRIGGER rollup_areas_deleted_groups AFTER DELETE ON request_areas
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_area_groups_changed();
CREATE TRIGGER rollup_requests_updated_areas AFTER UPDATE ON service_requests
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_area_requests_changed();

-- The requests already stored.
INSERT INTO area_request_rollup
SELECT a.layer_id, a.area_id, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM'), r.service_code,
       coalesce(r.department_code, ''), r.channel, r.status, r.outcome, count(*),
       coalesce(sum(r.close_seconds), 0)
FROM request_areas a JOIN service_requests r ON r.key = a.request_key
WHERE r.outcome IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO area_close_rollup
SELECT a.layer_id, a.area_id, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM'), r.service_code,
       coalesce(r.department_code, ''), r.close_bin, count(*)
FROM request_areas a JOIN service_requests r ON r.key = a.request_key
WHERE r.outcome IS NOT NULL AND r.close_bin IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO area_pair_rollup
SELECT a.layer_id, a.area_id, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM'), r.service_code,
       coalesce(r.department_code, ''), o.layer_id, o.area_id, count(*)
FROM request_areas a JOIN request_areas o ON o.request_key = a.request_key
JOIN service_requests r ON r.key = a.request_key GROUP BY 1, 2, 3, 4, 5, 6, 7;
