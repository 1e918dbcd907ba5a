"""The grouped numbers of `civic311 report monthly` (docs/METRICS.md, "Monthly report"), computed
independently by DuckDB from an exported Parquet file: the 13-month trend, every service,
department and area of the month against the month before and a year before, and the movers.
Used by crates/civic311/tests/report.rs and scripts/bench-metrics.

usage: report_duckdb.py FILE.parquet TIMEZONE NOW YYYY-MM yes|no(include self-generated) [BUDGET.csv]
With the budget table (service_code, labor_minutes, hourly_rate, unit_cost), each row has its cost
and the month its cost summary.
"""
import duckdb, json, sys
f, tz, now, month, with_self = sys.argv[1:6]
budget = sys.argv[6] if len(sys.argv) > 6 else None
con = duckdb.connect()
con.execute(f"SET TimeZone = '{tz}'")
y, m = map(int, month.split("-"))
def back(n):
    i = y * 12 + m - 1 - n
    return f"{i // 12:04d}-{i % 12 + 1:02d}"
if budget:
    con.execute(f"""CREATE TABLE costs AS SELECT service_code::VARCHAR AS service_code,
        labor_minutes / 60.0 * hourly_rate + unit_cost AS per_request FROM read_csv('{budget}')""")
else:
    con.execute("CREATE TABLE costs (service_code VARCHAR, per_request DOUBLE)")
# The 13 months of the trend, by local time (SET TimeZone): a range DuckDB prunes row groups by.
first, after = f"{back(12)}-01 00:00:00", f"{back(-1)}-01 00:00:00"
con.execute(f"""CREATE TEMP TABLE r AS SELECT t.*, strftime(created_at, '%Y-%m') AS month,
    epoch(closed_at) - epoch(created_at) AS secs, coalesce(closure_reason = 'duplicate', false) AS dup,
    c.per_request FROM '{f}' t LEFT JOIN costs c USING (service_code)
    WHERE created_at >= TIMESTAMPTZ '{first}' AND created_at < TIMESTAMPTZ '{after}'""")
counts = dict(con.execute("SELECT month, count(*) FROM r GROUP BY 1").fetchall())
trend = [{"month": back(n), "requests": counts.get(back(n), 0)} for n in range(12, -1, -1)]
now_s = f"epoch(TIMESTAMPTZ '{now}')"
judged = "NOT dup" + ("" if with_self == "yes" else " AND channel <> 'self_generated'")
closed = "status = 'closed' AND NOT dup AND closed_at IS NOT NULL"

def rows(expr, where="true"):
    q = f"""SELECT {expr} AS k,
        count(*) FILTER (month = '{back(0)}'),
        count(*) FILTER (month = '{back(1)}'),
        count(*) FILTER (month = '{back(12)}'),
        count(*) FILTER (month = '{back(0)}' AND {closed}),
        quantile_cont(secs, 0.5) FILTER (month = '{back(0)}' AND {closed}),
        count(*) FILTER (month = '{back(0)}' AND status <> 'closed'),
        count(*) FILTER (month = '{back(0)}' AND {judged} AND due_at IS NOT NULL AND status <> 'closed' AND epoch(due_at) < {now_s}),
        count(*) FILTER (month = '{back(0)}' AND {judged} AND due_at IS NOT NULL AND status = 'closed' AND closed_at <= due_at),
        count(*) FILTER (month = '{back(0)}' AND {judged} AND due_at IS NOT NULL AND status = 'closed' AND closed_at > due_at),
        coalesce(sum(per_request) FILTER (month = '{back(0)}' AND status = 'closed' AND NOT dup), 0)
      FROM r WHERE {where} AND month IN ('{back(0)}', '{back(1)}', '{back(12)}') GROUP BY 1"""
    out = []
    for k, n, prev, year, closed_n, median, open_n, overdue, met, late, cost in con.execute(q).fetchall():
        judged_n = met + late + overdue
        row = {"key": str(k), "requests": n, "previous_month": prev, "year_ago": year,
               "closed": closed_n, "median_seconds": median, "open": open_n,
               "open_overdue": overdue, "attainment": met / judged_n if judged_n else None}
        if budget:
            row["cost"] = float(cost)
        out.append(row)
    out.sort(key=lambda r: (-r["requests"], r["key"]))
    return out

areas = {}
for (column,) in con.execute("SELECT column_name FROM (DESCRIBE r) WHERE column_name LIKE 'area:%'").fetchall():
    got = rows(f'"{column}"', f'"{column}" IS NOT NULL')
    if got:
        areas[column[5:]] = got
services = rows("service_code")
def movers(compared):
    out = []
    for dimension, rs in [("service", services)] + sorted(areas.items()):
        ms = [{"dimension": dimension, "key": r["key"], "requests": r["requests"], "compared": r[compared],
               "change": r["requests"] - r[compared]} for r in rs if r["requests"] != r[compared]]
        ms.sort(key=lambda x: (-abs(x["change"]), x["key"]))
        out += ms[:5]
    return out
costs = None
if budget:
    total, with_cost, without = con.execute(f"""SELECT coalesce(sum(per_request), 0), count(per_request),
        count(*) - count(per_request) FROM r WHERE month = '{back(0)}' AND status = 'closed' AND NOT dup""").fetchone()
    costs = {"total": float(total), "closed_with_cost": with_cost, "closed_without_cost": without,
             "per_closed_request": total / with_cost if with_cost else None}
print(json.dumps({
    "costs": costs,
    "trend": trend,
    "services": services,
    "departments": rows("coalesce(department, 'none')"),
    "areas": areas,
    "movers": {"month_over_month": movers("previous_month"), "year_over_year": movers("year_ago")},
}))
