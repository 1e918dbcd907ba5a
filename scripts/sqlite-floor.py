"""What SQLite alone needs to store an import, with no importer in the way.

Usage: sqlite-floor.py STORE.db OUT_DIR

STORE.db is a store filled by `civic311 import csv` (a first import, finished). For each setting
below, a fresh database gets the store's own tables (their definitions read from STORE.db) and
SQLite copies into it, with `INSERT ... SELECT` from STORE.db attached:
  1. rows: the requests, their events and their areas, 10,000 requests a transaction in key
     order, as a bulk load writes them (foreign keys on, the unique indexes and the per-request
     event index kept, the store's other indexes left out);
  2. indexes: the indexes a bulk load leaves out, built in one transaction, as its last step does;
  3. roll-ups: the roll-up tables' rows, copied in one transaction (their writing only: the
     counting is not in this number).
Settings: the importer's own (WAL, synchronous NORMAL, 64 MiB cache); the same without syncing
(synchronous OFF, not safe against power loss); and the importer's without the events table,
which is what storing no event rows for a request's imported history would leave.
The wall, user and system times of each step are printed; nothing is parsed, placed in areas or
bound, so these are floors for any importer of this schema on this machine.
"""

import os
import resource
import sqlite3
import sys
import time

REQUESTS_PER_TRANSACTION = 10_000
TABLES = ("service_requests", "request_events", "request_areas")
# Kept during a bulk load (sql/bulk.rs): the per-request event index and the empty partial one.
KEPT = ("request_events_by_request", "service_requests_outcome_pending")
SETTINGS = (
    ("importer's (WAL, synchronous NORMAL)", "NORMAL", True),
    ("WAL, synchronous OFF", "OFF", True),
    ("WAL, synchronous NORMAL, no event rows", "NORMAL", False),
)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.monotonic(), r.ru_utime, r.ru_stime


def since(start):
    now = cpu()
    return tuple(b - a for a, b in zip(start, now))


def main(store, out_dir):
    src = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    (requests,) = src.execute("SELECT COUNT(*) FROM service_requests").fetchone()
    (events,) = src.execute("SELECT COUNT(*) FROM request_events").fetchone()
    (areas,) = src.execute("SELECT COUNT(*) FROM request_areas").fetchone()
    (first, last) = src.execute("SELECT MIN(key), MAX(key) FROM service_requests").fetchone()
    catalog = src.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL "
        "AND name IN ('departments', 'services', 'service_requests', 'request_events', "
        "'request_areas')"
    ).fetchall()
    indexes = src.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('service_requests', 'request_events', 'request_areas')"
    ).fetchall()
    rollups = src.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_rollup' ESCAPE '\\'"
    ).fetchall()
    rollup_rows = sum(src.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t, _ in rollups)
    src.close()
    print(f"SQLite {sqlite3.sqlite_version}; {store}: {requests:,} requests, {events:,} events, "
          f"{areas:,} areas, {rollup_rows:,} roll-up rows")
    for label, synchronous, with_events in SETTINGS:
        path = os.path.join(out_dir, "sqlite-floor.db")
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        db.execute("PRAGMA cache_size = -65536")
        db.execute("PRAGMA foreign_keys = ON")
        for name, sql in catalog:
            if with_events or name != "request_events":
                db.execute(sql)
        later = []
        for name, table, sql in indexes:
            if not with_events and table == "request_events":
                continue
            if name in KEPT or sql.upper().startswith("CREATE UNIQUE"):
                db.execute(sql)
            else:
                later.append(sql)
        for _, sql in rollups:
            db.execute(sql)
        db.execute("ATTACH ? AS s", (f"file:{store}?mode=ro",))
        db.execute("INSERT INTO main.departments SELECT * FROM s.departments")
        db.execute("INSERT INTO main.services SELECT * FROM s.services")
        tables = [t for t in TABLES if with_events or t != "request_events"]
        start = cpu()
        for low in range(first - 1, last, REQUESTS_PER_TRANSACTION):
            high = low + REQUESTS_PER_TRANSACTION
            db.execute("BEGIN IMMEDIATE")
            for t in tables:
                column = "key" if t == "service_requests" else "request_key"
                db.execute(f"INSERT INTO main.{t} SELECT * FROM s.{t} "
                           f"WHERE {column} > ? AND {column} <= ?", (low, high))
            db.execute("COMMIT")
        rows = since(start)
        start = cpu()
        db.execute("BEGIN IMMEDIATE")
        db.execute("PRAGMA threads = 2")
        for sql in later:
            db.execute(sql)
        db.execute("COMMIT")
        built = since(start)
        start = cpu()
        db.execute("BEGIN IMMEDIATE")
        for t, _ in rollups:
            db.execute(f'INSERT INTO main."{t}" SELECT * FROM s."{t}"')
        db.execute("COMMIT")
        counted = since(start)
        db.close()
        total = rows[0] + built[0] + counted[0]
        print(f"\n{label}")
        for step, (wall, user, system) in (("rows", rows), (f"{len(later)} indexes", built),
                                           ("roll-up rows", counted)):
            print(f"  {step:<14} wall {wall:6.1f} s  user {user:6.1f} s  sys {system:5.1f} s")
        print(f"  {'all':<14} wall {total:6.1f} s  = {requests / total:,.0f} requests/s "
              f"(the rows alone: {requests / rows[0]:,.0f}/s)")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
