-- API keys carry a role: `client` keys file requests through Open311; `staff` keys also use the
-- staff API (status, assignment, notes, merges) and see requesters' personal data.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'client';
