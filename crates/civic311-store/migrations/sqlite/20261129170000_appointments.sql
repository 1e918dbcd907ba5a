-- Bookable services: a schedule per service (JSON, see civic311_domain::appointments), the
-- places taken per service, zone and day, and each request's booking. A booking takes a place
-- with `UPDATE ... SET booked = booked + 1 WHERE booked < capacity`, atomic on both databases,
-- so parallel bookings never overfill a day.

CREATE TABLE appointment_schedules (
    service_code TEXT PRIMARY KEY REFERENCES services (code),
    schedule     TEXT NOT NULL
);

CREATE TABLE appointment_slots (
    service_code TEXT NOT NULL,
    zone         TEXT NOT NULL,
    day          TEXT NOT NULL,
    booked       INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0),
    PRIMARY KEY (service_code, zone, day)
);

CREATE TABLE appointments (
    request_key  INTEGER PRIMARY KEY REFERENCES service_requests (key),
    service_code TEXT NOT NULL,
    zone         TEXT NOT NULL,
    day          TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('booked', 'cancelled')),
    updated_at   TEXT NOT NULL
);
CREATE INDEX appointments_day ON appointments (service_code, day) WHERE state = 'booked';
