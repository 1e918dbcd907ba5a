-- The city's close-time bins by period alone, so that a summary of the whole city (no service,
-- department or area chosen: the staff dashboard's default) reads a few hundred bins a month
-- instead of close_rollup's bins of every service and department, summed (at 10M, a year's
-- 126,141 rows into 5,130 bins). Kept by the requests' statement trigger with the other roll-ups
-- (the function below is 20261205100000's with one more upsert), and counted again with them by
-- Store::rebuild_rollups.
CREATE TABLE close_bin_rollup (
    grain    SMALLINT NOT NULL,
    period   TEXT NOT NULL,
    bin      BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (grain, period, bin)
);

CREATE OR REPLACE FUNCTION rollup_requests_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT *, 1 AS n FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT *, -1 AS n FROM old_rows'
        ELSE 'SELECT *, 1 AS n FROM new_rows UNION ALL SELECT *, -1 FROM old_rows' END;
BEGIN
    IF TG_OP = 'UPDATE' THEN
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
    END IF;
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
    EXECUTE format($q$
        INSERT INTO close_bin_rollup
        SELECT g.grain, to_char(c.created_at AT TIME ZONE 'UTC', g.format), c.close_bin, sum(c.n)
        FROM (%s) c, rollup_grains g WHERE c.outcome IS NOT NULL AND c.close_bin IS NOT NULL
        GROUP BY 1, 2, 3 HAVING sum(c.n) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (grain, period, bin)
        DO UPDATE SET requests = close_bin_rollup.requests + excluded.requests $q$, changed);
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

-- The requests already stored.
INSERT INTO close_bin_rollup (grain, period, bin, requests)
SELECT grain, period, bin, sum(requests) FROM close_rollup GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
