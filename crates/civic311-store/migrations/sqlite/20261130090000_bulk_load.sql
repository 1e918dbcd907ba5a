-- Indexes a bulk import dropped, each with the statement that builds it again
-- (Store::suspend_indexes). Written in the same transaction as the drops, so an import that
-- dies half-way leaves the way back here; Store::open builds them again.
CREATE TABLE suspended_indexes (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);
