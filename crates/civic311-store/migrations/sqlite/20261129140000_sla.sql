-- The SLA engine: business calendars per department, the escalation level each open request has
-- reached, and leases for background jobs so that one server at a time runs each job.

-- '*' is the city's calendar, for departments without their own.
CREATE TABLE department_calendars (
    department_code TEXT PRIMARY KEY,
    calendar        TEXT NOT NULL
);

-- 0 none, 1 at risk (assignee notified), 2 past due (supervisor), 3 long past due (head).
ALTER TABLE service_requests ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
CREATE INDEX service_requests_due ON service_requests (due_at)
    WHERE status <> 'closed' AND due_at IS NOT NULL;

CREATE TABLE jobs (
    name        TEXT PRIMARY KEY,
    leased_by   TEXT,
    lease_until TEXT,
    last_run_at TEXT,
    last_result TEXT
);
