-- Roll-ups: requests counted by what the metrics tell apart, per UTC day (grain 1, period
-- 'YYYY-MM-DD') and per UTC month (grain 2, period 'YYYY-MM') of creation, so that a summary of a
-- year reads a few thousand groups instead of every request (docs/METRICS.md, "Roll-ups").
-- Kept by the triggers below on every write; a bulk load drops the triggers with the indexes and
-- builds the roll-ups again at its end (Store::rebuild_rollups).

-- The outcome of each request (civic311_domain::outcome), written by the store with the request.
-- NULL on requests stored before this migration, until Store::open computes them and builds
-- the roll-ups (Store::rebuild_rollups).
ALTER TABLE service_requests ADD COLUMN outcome INTEGER;
ALTER TABLE service_requests ADD COLUMN close_seconds INTEGER;
ALTER TABLE service_requests ADD COLUMN close_bin INTEGER;
-- Finds those at once (it stays empty).
CREATE INDEX service_requests_outcome_pending ON service_requests (key) WHERE outcome IS NULL;
-- The close times of one bin in a period, in order: where a median or p90 falls in a bin shared
-- by several times, the one value is read from here (analytics' rolled.rs).
CREATE INDEX service_requests_close_bin ON service_requests (close_bin, created_at, close_seconds)
    WHERE close_bin IS NOT NULL;

CREATE TABLE request_rollup (
    grain           INTEGER NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,  -- '' for none
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    outcome         INTEGER NOT NULL,
    requests        INTEGER NOT NULL,
    close_seconds   INTEGER NOT NULL,  -- their sum
    PRIMARY KEY (grain, period, service_code, department_code, channel, status, outcome)
) WITHOUT ROWID;

-- Requests closed with a usable time, by close-time bin (civic311_domain::outcome::close_bin).
CREATE TABLE close_rollup (
    grain           INTEGER NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,
    bin             INTEGER NOT NULL,
    requests        INTEGER NOT NULL,
    PRIMARY KEY (grain, period, service_code, department_code, bin)
) WITHOUT ROWID;

CREATE TABLE area_rollup (
    grain           INTEGER NOT NULL,
    period          TEXT NOT NULL,
    layer_id        TEXT NOT NULL,
    area_id         TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,
    requests        INTEGER NOT NULL,
    PRIMARY KEY (grain, period, layer_id, area_id, service_code, department_code)
) WITHOUT ROWID;

-- The grains, and each one's length of the UTC creation time's text.
CREATE TABLE rollup_grains (grain INTEGER PRIMARY KEY, chars INTEGER NOT NULL);
INSERT INTO rollup_grains VALUES (1, 10), (2, 7);

CREATE TRIGGER rollup_request_insert AFTER INSERT ON service_requests
WHEN NEW.outcome IS NOT NULL
BEGIN
    INSERT INTO request_rollup
    SELECT g.grain, substr(NEW.created_at, 1, g.chars), NEW.service_code,
           coalesce(NEW.department_code, ''), NEW.channel, NEW.status, NEW.outcome, 1,
           coalesce(NEW.close_seconds, 0)
    FROM rollup_grains g WHERE true
    ON CONFLICT DO UPDATE SET requests = requests + 1,
        close_seconds = close_seconds + excluded.close_seconds;
    INSERT INTO close_rollup
    SELECT g.grain, substr(NEW.created_at, 1, g.chars), NEW.service_code,
           coalesce(NEW.department_code, ''), NEW.close_bin, 1
    FROM rollup_grains g WHERE NEW.close_bin IS NOT NULL
    ON CONFLICT DO UPDATE SET requests = requests + 1;
END;

CREATE TRIGGER rollup_request_delete AFTER DELETE ON service_requests
WHEN OLD.outcome IS NOT NULL
BEGIN
    UPDATE request_rollup SET requests = requests - 1,
        close_seconds = close_seconds - coalesce(OLD.close_seconds, 0)
    WHERE (grain, period) IN (SELECT grain, substr(OLD.created_at, 1, chars) FROM rollup_grains)
      AND service_code = OLD.service_code AND department_code = coalesce(OLD.department_code, '')
      AND channel = OLD.channel AND status = OLD.status AND outcome = OLD.outcome;
    UPDATE close_rollup SET requests = requests - 1
    WHERE (grain, period) IN (SELECT grain, substr(OLD.created_at, 1, chars) FROM rollup_grains)
      AND service_code = OLD.service_code AND department_code = coalesce(OLD.department_code, '')
      AND bin = OLD.close_bin;
END;

CREATE TRIGGER rollup_request_update AFTER UPDATE ON service_requests
WHEN OLD.outcome IS NOT NEW.outcome OR OLD.close_seconds IS NOT NEW.close_seconds
  OR OLD.service_code IS NOT NEW.service_code OR OLD.department_code IS NOT NEW.department_code
  OR OLD.channel IS NOT NEW.channel OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE request_rollup SET requests = requests - 1,
        close_seconds = close_seconds - coalesce(OLD.close_seconds, 0)
    WHERE OLD.outcome IS NOT NULL
      AND (grain, period) IN (SELECT grain, substr(OLD.created_at, 1, chars) FROM rollup_grains)
      AND service_code = OLD.service_code AND department_code = coalesce(OLD.department_code, '')
      AND channel = OLD.channel AND status = OLD.status AND outcome = OLD.outcome;
    UPDATE close_rollup SET requests = requests - 1
    WHERE OLD.outcome IS NOT NULL
      AND (grain, period) IN (SELECT grain, substr(OLD.created_at, 1, chars) FROM rollup_grains)
      AND service_code = OLD.service_code AND department_code = coalesce(OLD.department_code, '')
      AND bin = OLD.close_bin;
    INSERT INTO request_rollup
    SELECT g.grain, substr(NEW.created_at, 1, g.chars), NEW.service_code,
           coalesce(NEW.department_code, ''), NEW.channel, NEW.status, NEW.outcome, 1,
           coalesce(NEW.close_seconds, 0)
    FROM rollup_grains g WHERE NEW.outcome IS NOT NULL
    ON CONFLICT DO UPDATE SET requests = requests + 1,
        close_seconds = close_seconds + excluded.close_seconds;
    INSERT INTO close_rollup
    SELECT g.grain, substr(NEW.created_at, 1, g.chars), NEW.service_code,
           coalesce(NEW.department_code, ''), NEW.close_bin, 1
    FROM rollup_grains g WHERE NEW.outcome IS NOT NULL AND NEW.close_bin IS NOT NULL
    ON CONFLICT DO UPDATE SET requests = requests + 1;
    -- Its areas move with its service and department.
    UPDATE area_rollup SET requests = requests - 1
    WHERE (OLD.service_code IS NOT NEW.service_code OR OLD.department_code IS NOT NEW.department_code)
      AND (grain, period) IN (SELECT grain, substr(OLD.created_at, 1, chars) FROM rollup_grains)
      AND (layer_id, area_id) IN (SELECT layer_id, area_id FROM request_areas WHERE request_key = OLD.key)
      AND service_code = OLD.service_code AND department_code = coalesce(OLD.department_code, '');
    INSERT INTO area_rollup
    SELECT g.grain, substr(NEW.created_at, 1, g.chars), a.layer_id, a.area_id, NEW.service_code,
           coalesce(NEW.department_code, ''), 1
    FROM rollup_grains g, request_areas a
    WHERE (OLD.service_code IS NOT NEW.service_code OR OLD.department_code IS NOT NEW.department_code)
      AND a.request_key = NEW.key
    ON CONFLICT DO UPDATE SET requests = requests + 1;
END;

CREATE TRIGGER rollup_area_insert AFTER INSERT ON request_areas
BEGIN
    INSERT INTO area_rollup
    SELECT g.grain, substr(r.created_at, 1, g.chars), NEW.layer_id, NEW.area_id, r.service_code,
           coalesce(r.department_code, ''), 1
    FROM rollup_grains g, service_requests r WHERE r.key = NEW.request_key
    ON CONFLICT DO UPDATE SET requests = requests + 1;
END;

CREATE TRIGGER rollup_area_delete AFTER DELETE ON request_areas
BEGIN
    UPDATE area_rollup SET requests = requests - 1
    WHERE (grain, period, layer_id, area_id, service_code, department_code) IN (
        SELECT g.grain, substr(r.created_at, 1, g.chars), OLD.layer_id, OLD.area_id,
               r.service_code, coalesce(r.department_code, '')
        FROM rollup_grains g, service_requests r WHERE r.key = OLD.request_key);
END;

