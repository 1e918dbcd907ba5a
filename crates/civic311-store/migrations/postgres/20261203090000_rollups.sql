-- Roll-ups: requests counted by what the metrics tell apart, per UTC day (grain 1, period
-- 'YYYY-MM-DD') and per UTC month (grain 2, period 'YYYY-MM') of creation, so that a summary of a
-- year reads a few thousand groups instead of every request (docs/METRICS.md, "Roll-ups").
-- Kept by the triggers below on every write; a bulk load drops the triggers with the indexes and
-- builds the roll-ups again at its end (Store::rebuild_rollups).

-- The outcome of each request (civic311_domain::outcome), written by the store with the request.
-- NULL on requests stored before this migration, until Store::open computes them and builds
-- the roll-ups (Store::rebuild_rollups).
ALTER TABLE service_requests ADD COLUMN outcome SMALLINT;
ALTER TABLE service_requests ADD COLUMN close_seconds BIGINT;
ALTER TABLE service_requests ADD COLUMN close_bin BIGINT;
-- Finds those at once (it stays empty).
CREATE INDEX service_requests_outcome_pending ON service_requests (key) WHERE outcome IS NULL;
-- The close times of one bin in a period, in order: where a median or p90 falls in a bin shared
-- by several times, the one value is read from here (analytics' rolled.rs).
CREATE INDEX service_requests_close_bin ON service_requests (close_bin, created_at, close_seconds)
    WHERE close_bin IS NOT NULL;

CREATE TABLE request_rollup (
    grain           SMALLINT NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,  -- '' for none
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    outcome         SMALLINT NOT NULL,
    requests        BIGINT NOT NULL,
    close_seconds   BIGINT NOT NULL,  -- their sum
    PRIMARY KEY (grain, period, service_code, department_code, channel, status, outcome)
);

-- Requests closed with a usable time, by close-time bin (civic311_domain::outcome::close_bin).
CREATE TABLE close_rollup (
    grain           SMALLINT NOT NULL,
    period          TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,
    bin             BIGINT NOT NULL,
    requests        BIGINT NOT NULL,
    PRIMARY KEY (grain, period, service_code, department_code, bin)
);

CREATE TABLE area_rollup (
    grain           SMALLINT NOT NULL,
    period          TEXT NOT NULL,
    layer_id        TEXT NOT NULL,
    area_id         TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    department_code TEXT NOT NULL,
    requests        BIGINT NOT NULL,
    PRIMARY KEY (grain, period, layer_id, area_id, service_code, department_code)
);

-- The grains, and each one's period of a UTC creation time.
CREATE TABLE rollup_grains (grain SMALLINT PRIMARY KEY, format TEXT NOT NULL);
INSERT INTO rollup_grains VALUES (1, 'YYYY-MM-DD'), (2, 'YYYY-MM');

-- Adds `n` (1 or -1) requests like `r` to the request and close roll-ups.
CREATE FUNCTION rollup_add_request(r service_requests, n INTEGER) RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO request_rollup
    SELECT g.grain, to_char(r.created_at AT TIME ZONE 'UTC', g.format), r.service_code,
           coalesce(r.department_code, ''), r.channel, r.status, r.outcome, n,
           n * coalesce(r.close_seconds, 0)
    FROM rollup_grains g WHERE r.outcome IS NOT NULL
    ON CONFLICT (grain, period, service_code, department_code, channel, status, outcome)
    DO UPDATE SET requests = request_rollup.requests + excluded.requests,
        close_seconds = request_rollup.close_seconds + excluded.close_seconds;
    INSERT INTO close_rollup
    SELECT g.grain, to_char(r.created_at AT TIME ZONE 'UTC', g.format), r.service_code,
           coalesce(r.department_code, ''), r.close_bin, n
    FROM rollup_grains g WHERE r.outcome IS NOT NULL AND r.close_bin IS NOT NULL
    ON CONFLICT (grain, period, service_code, department_code, bin)
    DO UPDATE SET requests = close_rollup.requests + excluded.requests;
$$;

-- Adds `n` requests created at `created` of `service` and `department` to the area roll-up, in
-- `area` of `layer`.
CREATE FUNCTION rollup_add_area(created TIMESTAMPTZ, service TEXT, department TEXT, layer TEXT,
    area TEXT, n INTEGER) RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO area_rollup
    SELECT g.grain, to_char(created AT TIME ZONE 'UTC', g.format), layer, area, service,
           coalesce(department, ''), n
    FROM rollup_grains g
    ON CONFLICT (grain, period, layer_id, area_id, service_code, department_code)
    DO UPDATE SET requests = area_rollup.requests + excluded.requests;
$$;

-- Adds `n` requests like `r` to the area roll-up, in each of `r`'s areas.
CREATE FUNCTION rollup_add_areas(r service_requests, n INTEGER) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rollup_add_area(r.created_at, r.service_code, r.department_code, a.layer_id, a.area_id, n)
    FROM request_areas a WHERE a.request_key = r.key;
END $$;

CREATE FUNCTION rollup_request_change() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM rollup_add_request(OLD, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM rollup_add_request(NEW, 1);
    END IF;
    -- Its areas move with its service and department.
    IF TG_OP = 'UPDATE' AND (OLD.service_code IS DISTINCT FROM NEW.service_code
        OR OLD.department_code IS DISTINCT FROM NEW.department_code) THEN
        PERFORM rollup_add_areas(OLD, -1);
        PERFORM rollup_add_areas(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_area_change() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    a request_areas;
    n INTEGER;
BEGIN
    IF TG_OP = 'INSERT' THEN a := NEW; n := 1; ELSE a := OLD; n := -1; END IF;
    PERFORM rollup_add_area(r.created_at, r.service_code, r.department_code, a.layer_id, a.area_id, n)
    FROM service_requests r WHERE r.key = a.request_key;
    RETURN NULL;
END $$;

CREATE TRIGGER rollup_request_insert AFTER INSERT OR DELETE ON service_requests
    FOR EACH ROW EXECUTE FUNCTION rollup_request_change();
CREATE TRIGGER rollup_request_update AFTER UPDATE ON service_requests
    FOR EACH ROW WHEN (OLD.outcome IS DISTINCT FROM NEW.outcome
        OR OLD.close_seconds IS DISTINCT FROM NEW.close_seconds
        OR OLD.service_code IS DISTINCT FROM NEW.service_code
        OR OLD.department_code IS DISTINCT FROM NEW.department_code
        OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION rollup_request_change();
CREATE TRIGGER rollup_area_change AFTER INSERT OR DELETE ON request_areas
    FOR EACH ROW EXECUTE FUNCTION rollup_area_change();
