-- Roll-ups by area: the requests of each area (`of_layer`, `of_area`) counted per UTC month of
-- creation ('YYYY-MM') by what the metrics tell apart, so that a summary of one area over a year
-- reads its groups instead of its requests (docs/METRICS.md, "Roll-ups"). Months only: the
-- ragged ends of a range are read from the area's requests (rollup.rs, signed pieces).
-- Kept by the triggers below (a request's areas are inserted after it and deleted before it;
-- a change of the request itself moves its areas' counts); a bulk load drops them with the
-- others and Store::rebuild_rollups counts everything again.

-- As request_rollup, for the requests of one area.
CREATE TABLE area_request_rollup (
    of_layer        TEXT NOT NULL,
    of_area         TEXT NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,  -- '' for none
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    outcome         INTEGER NOT NULL,
    requests        INTEGER NOT NULL,
    close_seconds   INTEGER NOT NULL,  -- their sum
    PRIMARY KEY (of_layer, of_area, period, service_code, department_code, channel, status, outcome)
) WITHOUT ROWID;

-- As close_rollup, for the requests of one area.
CREATE TABLE area_close_rollup (
    of_layer        TEXT NOT NULL,
    of_area         TEXT NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,
    bin             INTEGER NOT NULL,
    requests        INTEGER NOT NULL,
    PRIMARY KEY (of_layer, of_area, period, service_code, department_code, bin)
) WITHOUT ROWID;

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
    requests        INTEGER NOT NULL,
    PRIMARY KEY (of_layer, of_area, period, service_code, department_code, layer_id, area_id)
) WITHOUT ROWID;

-- A request placed in an area: counted there, and paired with its other areas both ways.
CREATE TRIGGER rollup_area_groups_insert AFTER INSERT ON request_areas
BEGIN
    INSERT INTO area_request_rollup
    SELECT NEW.layer_id, NEW.area_id, substr(r.created_at, 1, 7), r.service_code,
           coalesce(r.department_code, ''), r.channel, r.status, r.outcome, 1,
           coalesce(r.close_seconds, 0)
    FROM service_requests r WHERE r.key = NEW.request_key AND r.outcome IS NOT NULL
    ON CONFLICT DO UPDATE SET requests = requests + 1,
        close_seconds = close_seconds + excluded.close_seconds;
    INSERT INTO area_close_rollup
    SELECT NEW.layer_id, NEW.area_id, substr(r.created_at, 1, 7), r.service_code,
           coalesce(r.department_code, ''), r.close_bin, 1
    FROM service_requests r
    WHERE r.key = NEW.request_key AND r.outcome IS NOT NULL AND r.close_bin IS NOT NULL
    ON CONFLICT DO UPDATE SET requests = requests + 1;
    INSERT INTO area_pair_rollup
    SELECT NEW.layer_id, NEW.area_id, substr(r.created_at, 1, 7), r.service_code,
           coalesce(r.department_code, ''), o.layer_id, o.area_id, 1
    FROM service_requests r JOIN request_areas o ON o.request_key = r.key
    WHERE r.key = NEW.request_key
    UNION ALL
    SELECT o.layer_id, o.area_id, substr(r.created_at, 1, 7), r.service_code,
           coalesce(r.department_code, ''), NEW.layer_id, NEW.area_id, 1
    FROM service_requests r JOIN request_areas o ON o.request_key = r.key
    WHERE r.key = NEW.request_key AND o.layer_id <> NEW.layer_id
    ON CONFLICT DO UPDATE SET requests = requests + 1;
END;

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
    -- With itself, and both ways with each area the request keeps.
    UPDATE area_pair_rollup SET requests = requests - 1
    WHERE (of_layer, of_area, period, service_code, department_code, layer_id, area_id) IN (
        SELECT OLD.layer_id, OLD.area_id, substr(r.created_at, 1, 7), r.service_code,
               coalesce(r.department_code, ''), OLD.layer_id, OLD.area_id
        FROM service_requests r WHERE r.key = OLD.request_key
        UNION ALL
        SELECT OLD.layer_id, OLD.area_id, substr(r.created_at, 1, 7), r.service_code,
               coalesce(r.department_code, ''), o.layer_id, o.area_id
        FROM service_requests r JOIN request_areas o ON o.request_key = r.key
        WHERE r.key = OLD.request_key
        UNION ALL
        SELECT o.layer_id, o.area_id, substr(r.created_at, 1, 7), r.service_code,
               coalesce(r.department_code, ''), OLD.layer_id, OLD.area_id
        FROM service_requests r JOIN request_areas o ON o.request_key = r.key
        WHERE r.key = OLD.request_key);
END;

-- A request that changes what the roll-ups count it by moves in each of its areas.
CREATE TRIGGER rollup_area_groups_update AFTER UPDATE ON service_requests
WHEN OLD.outcome IS NOT NEW.outcome OR OLD.close_seconds IS NOT NEW.close_seconds
  OR OLD.service_code IS NOT NEW.service_code OR OLD.department_code IS NOT NEW.department_code
  OR OLD.channel IS NOT NEW.channel OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE area_request_rollup SET requests = requests - 1,
        close_seconds = close_seconds - coalesce(OLD.close_seconds, 0)
    WHERE OLD.outcome IS NOT NULL
      AND (of_layer, of_area) IN (SELECT layer_id, area_id FROM request_areas WHERE request_key = OLD.key)
      AND period = substr(OLD.created_at, 1, 7) AND service_code = OLD.service_code
      AND department_code = coalesce(OLD.department_code, '') AND channel = OLD.channel
      AND status = OLD.status AND outcome = OLD.outcome;
    UPDATE area_close_rollup SET requests = requests - 1
    WHERE OLD.outcome IS NOT NULL
      AND (of_layer, of_area) IN (SELECT layer_id, area_id FROM request_areas WHERE request_key = OLD.key)
      AND period = substr(OLD.created_at, 1, 7) AND service_code = OLD.service_code
      AND department_code = coalesce(OLD.department_code, '') AND bin = OLD.close_bin;
    INSERT INTO area_request_rollup
    SELECT a.layer_id, a.area_id, substr(NEW.created_at, 1, 7), NEW.service_code,
           coalesce(NEW.department_code, ''), NEW.channel, NEW.status, NEW.outcome, 1,
           coalesce(NEW.close_seconds, 0)
    FROM request_areas a WHERE a.request_key = NEW.key AND NEW.outcome IS NOT NULL
    ON CONFLICT DO UPDATE SET requests = requests + 1,
        close_seconds = close_seconds + excluded.close_seconds;
    INSERT INTO area_close_rollup
    SELECT a.layer_id, a.area_id, substr(NEW.created_at, 1, 7), NEW.service_code,
           coalesce(NEW.department_code, ''), NEW.close_bin, 1
    FROM request_areas a
    WHERE a.request_key = NEW.key AND NEW.outcome IS NOT NULL AND NEW.close_bin IS NOT NULL
    ON CONFLICT DO UPDATE SET requests = requests + 1;
    -- The pairs move with its service and department.
    UPDATE area_pair_rollup SET requests = requests - 1
    WHERE (OLD.service_code IS NOT NEW.service_code OR OLD.department_code IS NOT NEW.department_code)
      AND (of_layer, of_area, layer_id, area_id) IN (
          SELECT a.layer_id, a.area_id, o.layer_id, o.area_id
          FROM request_areas a JOIN request_areas o ON o.request_key = a.request_key
          WHERE a.request_key = OLD.key)
      AND period = substr(OLD.created_at, 1, 7) AND service_code = OLD.service_code
      AND department_code = coalesce(OLD.department_code, '');
    INSERT INTO area_pair_rollup
    SELECT a.layer_id, a.area_id, substr(NEW.created_at, 1, 7), NEW.service_code,
           coalesce(NEW.department_code, ''), o.layer_id, o.area_id, 1
    FROM request_areas a JOIN request_areas o ON o.request_key = a.request_key
    WHERE (OLD.service_code IS NOT NEW.service_code OR OLD.department_code IS NOT NEW.department_code)
      AND a.request_key = NEW.key
    ON CONFLICT DO UPDATE SET requests = requests + 1;
END;

-- The requests already stored.
INSERT INTO area_request_rollup
SELECT a.layer_id, a.area_id, substr(r.created_at, 1, 7), r.service_code,
       coalesce(r.department_code, ''), r.channel, r.status, r.outcome, count(*),
       coalesce(sum(r.close_seconds), 0)
FROM request_areas a JOIN service_requests r ON r.key = a.request_key
WHERE r.outcome IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO area_close_rollup
SELECT a.layer_id, a.area_id, substr(r.created_at, 1, 7), r.service_code,
       coalesce(r.department_code, ''), r.close_bin, count(*)
FROM request_areas a JOIN service_requests r ON r.key = a.request_key
WHERE r.outcome IS NOT NULL AND r.close_bin IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO area_pair_rollup
SELECT a.layer_id, a.area_id, substr(r.created_at, 1, 7), r.service_code,
       coalesce(r.department_code, ''), o.layer_id, o.area_id, count(*)
FROM request_areas a JOIN request_areas o ON o.request_key = a.request_key
JOIN service_requests r ON r.key = a.request_key GROUP BY 1, 2, 3, 4, 5, 6, 7;
