#!/usr/bin/env python3
"""A newer extract of a Kansas City file, for re-import benchmarks: synthetic-from-real.

usage: newer-extract.py IN.csv OUT.csv   (standard library only)

Every row is copied as it is, except the requests still open or assigned (STATUS OPEN or
ASSIG, about 2% of the real rows), which are closed as resolved three days after they were
created: what the city's next extract says of them once the work is done. Prints how many rows
changed. The header and formats stay the original's, so mappings/kansas-city.toml imports it.
"""
import csv, datetime, sys

src, out = sys.argv[1], sys.argv[2]
changed = 0
with open(src, newline="", encoding="utf-8", errors="surrogateescape") as f, \
        open(out, "w", newline="", encoding="utf-8", errors="surrogateescape") as o:
    reader, writer = csv.reader(f), csv.writer(o)
    header = next(reader)
    writer.writerow(header)
    status, created, closed = (header.index(c) for c in ("STATUS", "CREATION DATE", "CLOSED DATE"))
    for row in reader:
        if row[status] in ("OPEN", "ASSIG"):
            day = datetime.datetime.strptime(row[created], "%m/%d/%Y") + datetime.timedelta(days=3)
            row[status], row[closed] = "RESOL", day.strftime("%m/%d/%Y")
            changed += 1
        writer.writerow(row)
print(f"newer-extract: {changed} of the rows closed (synthetic-from-real) in {out}")
