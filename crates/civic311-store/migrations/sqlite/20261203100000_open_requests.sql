-- The open requests of a period with what judging them needs (age, due date, outcome, channel),
-- read from the index alone: a summary from the roll-ups reads them (rollup.rs), and they are a
-- few percent of the requests. Closing a request takes it out.
CREATE INDEX service_requests_open ON service_requests
    (created_at, status, due_at, outcome, channel, service_code, department_code)
    WHERE status <> 'closed';
