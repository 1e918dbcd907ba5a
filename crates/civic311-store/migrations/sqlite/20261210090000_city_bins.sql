-- The city's close-time bins by period alone, so that a summary of the whole city (no service,
-- department or area chosen: the staff dashboard's default) reads a few hundred bins a month
-- instead of close_rollup's bins of every service and department, summed by a sort (at 10M, a
-- year's 126,141 rows into 5,130 bins: 0.05 s of the twelve-month dashboard's 0.2 s).
-- Kept by the triggers below, as close_rollup is, and counted again with it by
-- Store::rebuild_rollups (a bulk load drops these triggers with the others).
CREATE TABLE close_bin_rollup (
    grain    INTEGER NOT NULL,
    period   TEXT NOT NULL,
    bin      INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (grain, period, bin)
) WITHOUT ROWID;

CREATE TRIGGER rollup_bin_insert AFTER INSERT ON service_requests
WHEN NEW.outcome IS NOT NULL AND NEW.close_bin IS NOT NULL
BEGIN
    INSERT INTO close_bin_rollup
    SELECT g.grain, substr(NEW.created_at, 1, g.chars), NEW.close_bin, 1 FROM rollup_grains g WHERE true
    ON CONFLICT DO UPDATE SET requests = requests + 1;
END;

CREATE TRIGGER rollup_bin_delete AFTER DELETE ON service_requests
WHEN OLD.outcome IS NOT NULL AND OLD.close_bin IS NOT NULL
BEGIN
    UPDATE close_bin_rollup SET requests = requests - 1
    WHERE (grain, period) IN (SELECT grain, substr(OLD.created_at, 1, chars) FROM rollup_grains)
      AND bin = OLD.close_bin;
END;

CREATE TRIGGER rollup_bin_update AFTER UPDATE ON service_requests
WHEN OLD.outcome IS NOT NEW.outcome OR OLD.close_bin IS NOT NEW.close_bin
BEGIN
    UPDATE close_bin_rollup SET requests = requests - 1
    WHERE OLD.outcome IS NOT NULL
      AND (grain, period) IN (SELECT grain, substr(OLD.created_at, 1, chars) FROM rollup_grains)
      AND bin = OLD.close_bin;
    INSERT INTO close_bin_rollup
    SELECT g.grain, substr(NEW.created_at, 1, g.chars), NEW.close_bin, 1
    FROM rollup_grains g WHERE NEW.outcome IS NOT NULL AND NEW.close_bin IS NOT NULL
    ON CONFLICT DO UPDATE SET requests = requests + 1;
END;

-- The requests already stored.
INSERT INTO close_bin_rollup (grain, period, bin, requests)
SELECT grain, period, bin, sum(requests) FROM close_rollup GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
