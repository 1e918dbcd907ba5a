-- The close-time index carries each request's service, department and key, so that the medians
-- of the monthly report's services, departments and areas that fall in a bin shared by several
-- times (Store::close_times_split) are read from the index alone (the areas joined on the key):
-- without them every request of the month in those bins was read for its service
-- (at 10M, October 2019: 1.8-2.0 s in a report read cold, 0.05 s from the index alone).
DROP INDEX service_requests_close_bin;
CREATE INDEX service_requests_close_bin ON service_requests (close_bin, created_at, close_seconds)
    INCLUDE (service_code, department_code, key)
    WHERE close_bin IS NOT NULL;
