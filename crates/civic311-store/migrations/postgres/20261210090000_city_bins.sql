-- The city's close-time bins by period alone, so that a summary of the whole city (no service,
-- department or area chosen: the staff dashboard's default) reads a few hundred bins a month
-- instead of close_rollup's bins of every service and department, summed (at 10M, a year's
-- 126,141 rows into 5,130 bins). Counted again with the others by
-- Store::rebuild_rollups (a bulk load drops these triggers with the others).
CREATE TABLE close_bin_rollup (
    grain    SMALLINT NOT NULL,
    period   TEXT NOT NULL,
    bin      BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (grain, period, bin)
);

-- Kept once per statement, as the other roll-ups are (20261204090000): the statement's rows
-- summed by bin first. An UPDATE that moves no request's bin sums to nothing and writes nothing,
-- so it needs no guard of its own.
CREATE FUNCTION rollup_bins_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT created_at, outcome, close_bin, 1 AS n FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT created_at, outcome, close_bin, -1 AS n FROM old_rows'
        ELSE 'SELECT created_at, outcome, close_bin, 1 AS n FROM new_rows
              UNION ALL SELECT created_at, outcome, close_bin, -1 FROM old_rows' END;
BEGIN
    EXECUTE format($q$
        INSERT INTO close_bin_rollup
        SELECT g.grain, to_char(c.created_at AT TIME ZONE 'UTC', g.format), c.close_bin, sum(c.n)
        FROM (%s) c, rollup_grains g WHERE c.outcome IS NOT NULL AND c.close_bin IS NOT NULL
        GROUP BY 1, 2, 3 HAVING sum(c.n) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (grain, period, bin)
        DO UPDATE SET requests = close_bin_rollup.requests + excluded.requests $q$, changed);
    RETURN NULL;
END $$;

CREATE TRIGGER rollup_bins_inserted AFTER INSERT ON service_requests
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_bins_changed();
CREATE TRIGGER rollup_bins_updated AFTER UPDATE ON service_requests
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_bins_changed();
CREATE TRIGGER rollup_bins_deleted AFTER DELETE ON service_requests
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_bins_changed();

-- The requests already stored.
INSERT INTO close_bin_rollup (grain, period, bin, requests)
SELECT grain, period, bin, sum(requests) FROM close_rollup GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
