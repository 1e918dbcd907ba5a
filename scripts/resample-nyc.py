#!/usr/bin/env python3
"""Make a larger benchmark file from New York City's real 311 rows: synthetic-from-real.

usage: resample-nyc.py N OUT.csv   (standard library only; reads ../shared/data)

The source is the real day of New York rows in the current layout with due dates
(new-york/nyc311_2023-02-28_46col.csv, 4,999 rows: 545 open, 121 of them with a due date).
Copy i of it gets `Unique Key` '<key>-<i>' and every date (created, closed, due, resolution
updated) moved back by i days, so that the hours, services, agencies, places, durations, due
dates and the share of open requests stay real while the volume grows over the years before
February 28th, 2023. The header and formats are the original file's, so mappings/nyc-current.toml
imports it.
"""
import csv, datetime, pathlib, sys

n, out = int(sys.argv[1]), sys.argv[2]
src = pathlib.Path(__file__).resolve().parents[1] / "../shared/data/new-york/nyc311_2023-02-28_46col.csv"
if not src.exists():
    sys.exit(f"resample-nyc: {src} is absent: this benchmark needs ../shared/data (see README)")
FORMAT = "%m/%d/%Y %I:%M:%S %p"
DATES = ("Created Date", "Closed Date", "Due Date", "Resolution Action Updated Date")
with open(src, newline="", encoding="utf-8", errors="surrogateescape") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = list(reader)
dates = [header.index(c) for c in DATES]
key = header.index("Unique Key")
parsed = [[datetime.datetime.strptime(r[i], FORMAT) if r[i] else None for i in dates] for r in rows]
with open(out, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
    w = csv.writer(f)
    w.writerow(header)
    written, i = 0, 0
    while written < n:
        back = datetime.timedelta(days=i)
        for r, ds in zip(rows, parsed):
            if written == n:
                break
            row = list(r)
            row[key] = f"{r[key]}-{i}"
            for col, d in zip(dates, ds):
                if d is not None:
                    row[col] = (d - back).strftime(FORMAT)
            w.writerow(row)
            written += 1
        i += 1
print(f"wrote {n} rows (synthetic-from-real: {i} copies of {len(rows)} real New York rows) to {out}")
