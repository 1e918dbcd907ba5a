"""The numbers of `civic311 report compare` (docs/METRICS.md, "Comparing cities"), computed
independently by DuckDB from each city's exported Parquet file. Used by
crates/civic311/tests/metrics.rs.

usage: compare_duckdb.py FROM TO NOW yes|no(include self-generated) FILE.parquet TIMEZONE [FILE TIMEZONE]...
FROM and TO are local dates (TO excluded), in each city's own time zone.
"""
import duckdb, json, sys
frm, to, now, with_self = sys.argv[1:5]
pairs = list(zip(sys.argv[5::2], sys.argv[6::2]))
order = ["pothole", "graffiti", "trash_recycling", "illegal_dumping", "street_light", "traffic_signal", "signs",
         "streets_sidewalks", "rodents", "dead_animal", "animals", "abandoned_vehicle", "parking", "noise", "trees",
         "water_sewer", "snow_ice", "code_enforcement", "housing", "food_safety", "public_health", "homelessness",
         "parks", "other"]
judged = "NOT dup" + ("" if with_self == "yes" else " AND channel <> 'self_generated'")
closed = "status = 'closed' AND NOT dup AND closed_at IS NOT NULL"
now_s = f"epoch(TIMESTAMPTZ '{now}')"
FIG = f"""count(*), count(*) FILTER ({closed}), quantile_cont(secs, 0.5) FILTER ({closed}),
    quantile_cont(secs, 0.9) FILTER ({closed}), count(*) FILTER (status <> 'closed'),
    count(*) FILTER ({judged} AND due_at IS NOT NULL AND status = 'closed' AND closed_at IS NOT NULL AND closed_at <= due_at),
    count(*) FILTER ({judged} AND due_at IS NOT NULL AND status = 'closed' AND closed_at > due_at),
    count(*) FILTER ({judged} AND due_at IS NOT NULL AND status <> 'closed' AND epoch(due_at) < {now_s})"""
def figures(row, total):
    n, closed_n, median, p90, open_n, met, late, overdue = row
    j = met + late + overdue
    return {"requests": n, "share": n / total if total else None, "closed": closed_n, "median_seconds": median,
            "p90_seconds": p90, "open": open_n, "judged": j, "attainment": met / j if j else None}
cities, rows = [], {}
for i, (f, tz) in enumerate(pairs):
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{tz}'")
    con.execute(f"""CREATE VIEW r AS SELECT *, epoch(closed_at) - epoch(created_at) AS secs,
        coalesce(closure_reason = 'duplicate', false) AS dup FROM '{f}'
        WHERE created_at >= TIMESTAMPTZ '{frm} 00:00:00' AND created_at < TIMESTAMPTZ '{to} 00:00:00'""")
    all_row = con.execute(f"SELECT {FIG} FROM r").fetchone()
    total = all_row[0]
    cities.append({"all": figures(all_row, total)})
    for category, *rest in con.execute(f"SELECT category, {FIG} FROM r GROUP BY 1").fetchall():
        rows.setdefault(category, [None] * len(pairs))[i] = figures(rest, total)
empty = lambda total: {"requests": 0, "share": 0.0 if total else None, "closed": 0, "median_seconds": None,
                       "p90_seconds": None, "open": 0, "judged": 0, "attainment": None}
categories = [{"category": c, "cities": [f or empty(cities[i]["all"]["requests"]) for i, f in enumerate(rows[c])]}
              for c in order if c in rows]
print(json.dumps({"cities": cities, "categories": categories}))
