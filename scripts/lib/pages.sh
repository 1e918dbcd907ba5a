# Sourced by the page benchmarks (scripts/bench-dashboard, scripts/bench-nyc).

# time_pages BIN LABEL PAGE...: serves the store at CIVIC311_DATABASE_URL on 127.0.0.1:18311,
# signed in with a staff key made for the run, and asks each PAGE ("label|/path?query") once to
# warm up, then 3 times: prints the median. Stops at the first page that is not a 200.
time_pages() {
    local bin=$1 label=$2 port=18311 key server page url code t
    shift 2
    key=$($bin apikey create "bench-pages-$$" --staff 2>/dev/null)
    $bin serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    echo "== $label"
    for page in "$@"; do
        url="http://127.0.0.1:$port${page#*|}"
        code=$(curl -s -o /dev/null -w '%{http_code}' -b "civic311_staff=$key" "$url")
        [ "$code" = 200 ] || { echo "  ${page%%|*}: HTTP $code" >&2; kill $server; exit 1; }
        t=$(for _ in 1 2 3; do curl -s -o /dev/null -w '%{time_total}\n' -b "civic311_staff=$key" "$url"; done \
            | sort -n | sed -n 2p)
        echo "  ${page%%|*}: ${t} s"
    done
    kill $server; wait $server 2>/dev/null || true
    $bin apikey revoke "bench-pages-$$" >/dev/null
}

# duckdb_summaries PARQUET TIMEZONE NOW SUMMARY...: DuckDB (.venv) computing the summaries
# of tests/python/metrics_duckdb.py from PARQUET, each SUMMARY ("label|from|to" or
# "label|from|to|LAYER:AREA") run once to warm up, then 3 times: prints the median.
duckdb_summaries() {
    .venv/bin/python - "$@" <<'PY'
import contextlib, io, runpy, sys, time
f, tz, now = sys.argv[1:4]
for summary in sys.argv[4:]:
    label, a, b, *where = summary.split("|")
    times = []
    for _ in range(4):
        sys.argv = ["tests/python/metrics_duckdb.py", f, tz, now, a, b, "no"] + where
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(sys.argv[0], run_name="__main__")
        times.append(time.perf_counter() - t)
    print(f"  {label}: {sorted(times[1:])[1]:.3f} s (median of 3 after a warm-up; Python start not counted)")
PY
}
