# Sourced by the import benchmarks (scripts/bench-import, scripts/bench-reimport), from the
# repository's root.

# need_shared NAME: exits (2) with a message unless ../shared holds the real data and
# resample.py.
need_shared() {
    if [ ! -f ../shared/tools/resample.py ]; then
        echo "$1: ../shared is absent: this benchmark needs the real Kansas City data and" >&2
        echo "resample.py from ../shared (see README). Nothing was measured." >&2
        exit 2
    fi
}

# resampled N...: bench-out/kc_N.csv for each N, the real Kansas City rows resampled to N
# (synthetic-from-real), made once.
resampled() {
    mkdir -p bench-out
    [ -x .venv/bin/python ] || python3 -m venv .venv
    local n
    for n in "$@"; do
        [ -f "bench-out/kc_$n.csv" ] || .venv/bin/python ../shared/tools/resample.py "$n" "bench-out/kc_$n.csv"
    done
}

# fresh_store BIN sqlite|postgres NAME: an empty store named NAME (bench-out/NAME.db, or the
# schema NAME at $pg) as CIVIC311_DATABASE_URL, migrated, with the 240 real neighborhoods
# loaded, so that every imported row is also placed by point-in-polygon.
fresh_store() {
    local bin=$1 target=$2 name=$3
    if [ "$target" = sqlite ]; then
        rm -f "bench-out/$name.db"*
        export CIVIC311_DATABASE_URL="sqlite:bench-out/$name.db"
    else
        psql -q "$pg" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $name CASCADE; CREATE SCHEMA $name" >/dev/null
        export CIVIC311_DATABASE_URL="$pg?options=-c%20search_path%3D$name"
    fi
    "$bin" migrate >/dev/null
    "$bin" import areas testdata/kansas-city/neighborhoods.geojson --layer kc-neighborhoods \
        --id-property nbhid --name-property nbhname --skip 0 >/dev/null
}

# drop_store sqlite|postgres NAME: removes what fresh_store made.
drop_store() {
    if [ "$1" = sqlite ]; then
        rm -f "bench-out/$2.db"*
    else
        psql -q "$pg" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $2 CASCADE" >/dev/null 2>&1 || true
    fi
}

# timed_import LABEL BIN FILE: imports FILE through the Kansas City mapping under GNU time and
# prints the import's summary line, the wall time and the peak RSS.
timed_import() {
    echo "  $1"
    /usr/bin/time -f "    wall=%es peak_rss=%MkB" \
        "$2" import csv --mapping mappings/kansas-city.toml "$3" 2>&1 | grep -E "rows read,|wall=" || true
}
