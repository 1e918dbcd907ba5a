"""The numbers of `civic311 metrics` (docs/METRICS.md), computed independently by DuckDB from an
exported Parquet file. Used by crates/civic311/tests/metrics.rs and scripts/bench-metrics.

usage: metrics_duckdb.py FILE.parquet TIMEZONE NOW FROM TO yes|no(include self-generated) [LAYER:AREA]
"""
import duckdb, json, sys
f, tz, now, frm, to, with_self = sys.argv[1:7]
in_area = ""
if len(sys.argv) > 7:
    layer, area = sys.argv[7].split(":", 1)
    in_area = f""" AND "area:{layer}" = '{area}'"""
con = duckdb.connect()
con.execute(f"SET TimeZone = '{tz}'")
con.execute(f"""CREATE VIEW r AS SELECT *, epoch(closed_at) - epoch(created_at) AS secs,
    coalesce(closure_reason = 'duplicate', false) AS dup
    FROM '{f}' WHERE created_at >= TIMESTAMPTZ '{frm}' AND created_at < TIMESTAMPTZ '{to}'{in_area}""")
one = lambda q: con.execute(q).fetchone()[0]
def by(expr, where="true"):
    return {str(k): v for k, v in con.execute(f"SELECT {expr}, count(*) FROM r WHERE {where} GROUP BY 1").fetchall()}
def buckets(expr, bounds, labels, where):
    cases = " ".join(f"WHEN {expr} < {b} * 86400 THEN {i}" for i, b in enumerate(bounds))
    got = dict(con.execute(f"SELECT CASE {cases} ELSE {len(bounds)} END, count(*) FROM r WHERE {where} GROUP BY 1").fetchall())
    return [{"label": l, "requests": got.get(i, 0)} for i, l in enumerate(labels)]
areas = {}
for (column,) in con.execute("SELECT column_name FROM (DESCRIBE r) WHERE column_name LIKE 'area:%'").fetchall():
    areas[column[5:]] = by(f'"{column}"', f'"{column}" IS NOT NULL')
closed = "status = 'closed' AND NOT dup AND closed_at IS NOT NULL"
t = con.execute(f"SELECT quantile_cont(secs, 0.5), quantile_cont(secs, 0.9), avg(secs) FROM r WHERE {closed}").fetchone()
now_s = f"epoch(TIMESTAMPTZ '{now}')"
judged = "NOT dup" + ("" if with_self == "yes" else " AND channel <> 'self_generated'")
sla = dict(con.execute(f"""SELECT CASE
    WHEN due_at IS NULL THEN 'without_target'
    WHEN status = 'closed' AND closed_at IS NULL THEN 'closed_without_time'
    WHEN status = 'closed' AND closed_at <= due_at THEN 'met'
    WHEN status = 'closed' THEN 'closed_late'
    WHEN epoch(due_at) < {now_s} THEN 'open_overdue'
    ELSE 'open_on_time' END, count(*) FROM r WHERE {judged} GROUP BY 1""").fetchall())
sla = {k: sla.get(k, 0) for k in ["met", "closed_late", "open_overdue", "open_on_time", "closed_without_time", "without_target"]}
sla["self_generated_left_out"] = 0 if with_self == "yes" else one("SELECT count(*) FROM r WHERE NOT dup AND channel = 'self_generated'")
judged_n = sla["met"] + sla["closed_late"] + sla["open_overdue"]
sla["attainment"] = sla["met"] / judged_n if judged_n else None
print(json.dumps({
  "volume": {
    "requests": one("SELECT count(*) FROM r"),
    "by_channel": by("channel"), "by_service": by("service_code"),
    "by_department": by("coalesce(department, 'none')"), "by_status": by("status"),
    "by_month": by("strftime(created_at, '%Y-%m')"), "by_area": areas,
  },
  "time_to_close": {
    "closed": one(f"SELECT count(*) FROM r WHERE {closed}"),
    "closed_without_time": one("SELECT count(*) FROM r WHERE status = 'closed' AND NOT dup AND closed_at IS NULL"),
    "duplicates": one("SELECT count(*) FROM r WHERE dup"),
    "open": one("SELECT count(*) FROM r WHERE status <> 'closed'"),
    "median_seconds": t[0], "p90_seconds": t[1], "mean_seconds": t[2],
    "distribution": buckets("secs", [1, 3, 7, 30, 90], ["under 1 day", "1-3 days", "3-7 days", "7-30 days", "30-90 days", "90 days or more"], closed),
  },
  "backlog": {
    "open": one("SELECT count(*) FROM r WHERE status <> 'closed'"),
    "aging": buckets(f"({now_s} - epoch(created_at))", [8, 31, 91, 366], ["0-7 days", "8-30 days", "31-90 days", "91-365 days", "over a year"], "status <> 'closed'"),
  },
  "sla": sla,
}))
