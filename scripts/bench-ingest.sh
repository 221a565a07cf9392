#!/usr/bin/env bash
# Measures durable webhook ingest end to end on this machine, in one run, with
# the workload of issue 11: `smiledash simulate --random`, one new event per
# request (INCOMES_ADDED, EMPLOYMENTS_ADDED, ACCOUNT_CONNECTED, TASK_FINISHED)
# for a user picked at random among USERS, CONCURRENCY connections, over
# loopback, by the same client for every target:
#   bare          a bare Fiber handler answering 200 (the ceiling),
#   sqlite-empty  smiledash on a new SQLite store,
#   sqlite-full   smiledash on a SQLite store holding STORED events,
#   pg-1          smiledash on a new PostgreSQL database,
#   pg-2          two smiledash processes on one new PostgreSQL database, each
#                 fed half the connections (their rates are summed).
# After each smiledash run the script waits for the projector to catch up and
# reports how far behind it was, how long it took, and its rates: during the
# run (events projected while the load was on) and catching up (alone). A
# binary without a projector (before issue 11) projects before acknowledging:
# its lag is shown as "-".
#
# Usage: scripts/bench-ingest.sh [sqlite|postgres|all]   (default sqlite; or: make bench-ingest)
# Knobs (environment):
#   CONCURRENCY (64), DURATION (60s: the projector's burst), USERS (100000),
#   STORED (1000000), OUT (bench-out), DRAIN_TIMEOUT (900 seconds),
#   BIN       measure this smiledash binary instead of building the checkout
#             (e.g. an older version's, for a before/after on the same machine);
#   FILL_DIR  a SQLite data dir with at least STORED events, copied for
#             sqlite-full instead of filling a store (which takes minutes); when
#             given but missing, the store filled here is saved there. Fill it
#             with the oldest binary compared: newer ones migrate it forward.
#   PG_URL    PostgreSQL server (postgres://postgres@127.0.0.1:5432); every pg
#             run creates a database bench_<random> there and drops it after.
# Every simulate run picks a new seed, so its 100,000 users are new to the
# store: a run on a full store adds users, as fresh traffic would.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-sqlite}
CONCURRENCY=${CONCURRENCY:-64}
DURATION=${DURATION:-60s}
USERS=${USERS:-100000}
STORED=${STORED:-1000000}
OUT=${OUT:-bench-out}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-900}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
FILL_DIR=${FILL_DIR:-}
SECRET=bench-secret-0001
BARE_ADDR=127.0.0.1:18181
ADDRS=(127.0.0.1:18080 127.0.0.1:18082)

case "$MODE" in sqlite | postgres | all) ;; *) echo "usage: $0 [sqlite|postgres|all]" >&2; exit 2 ;; esac
mkdir -p "$OUT"
if [ -z "${BIN:-}" ]; then
  BIN="$OUT/smiledash"
  CGO_ENABLED=1 go build -o "$BIN" ./cmd/smiledash
fi
RESULTS="$OUT/results.tsv"
: > "$RESULTS"
: > "$OUT/rss.txt"

pids=()
databases=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${databases[@]}"; do dropdb --if-exists "$(pg_arg)" "$d" 2>/dev/null || true; done
}
trap cleanup EXIT

# pg_arg turns PG_URL into the connection argument psql, createdb and dropdb take.
pg_arg() { echo "--maintenance-db=$PG_URL/postgres"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
wait_up() { for _ in $(seq 1 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "server at $1 did not come up" >&2; return 1; }
field() { python3 -c "import json; r=json.load(open('$1')); print($2)"; }

# serve DSN ADDR LOG: starts smiledash on a store, as a webhook receiver only.
serve() {
  SMILEDASH_DATA_DIR="$OUT/data" SMILEDASH_DATABASE_URL="$1" SMILEDASH_ADDR="$2" SMILEDASH_WEBHOOK_SECRETS="$SECRET" \
    SMILEDASH_WEBHOOK_ALLOWED_IPS=127.0.0.1 SMILEDASH_LOG_LEVEL=warn SMILE_API_KEY= \
    "$BIN" serve > "$3" 2>&1 &
  pids+=($!)
  wait_up "http://$2/healthz"
}
stop_servers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

# sql DSN QUERY: one value from the store, read beside the running servers.
sql() {
  case "$1" in
    postgres*) psql -X -q -t -A -v ON_ERROR_STOP=1 "$1" -c "$2" 2>/dev/null ;;
    *) sqlite3 -cmd ".timeout 5000" "$OUT/data/$1" "$2" 2>/dev/null ;;
  esac
}
stored() {
  case "$1" in
    postgres*) sql "$1" "SELECT count(*) FROM events" ;;
    *) sql "$1" "SELECT COALESCE(MAX(seq), 0) FROM events" ;; # seq is dense: nothing is deleted here
  esac
}
# lag DSN: events stored and not projected yet; empty for a binary without a projector.
lag() {
  case "$1" in
    postgres*) sql "$1" "SELECT count(*) FROM events e, projector_state p WHERE p.name = 'projections' AND e.tx IS NOT NULL AND (e.tx, e.seq) > (p.position_tx::text::xid8, p.position_seq)" || true ;;
    *) sql "$1" "SELECT (SELECT COALESCE(MAX(seq), 0) FROM events) - position_seq FROM projector_state" || true ;;
  esac
}

# load LABEL URL...: CONCURRENCY connections shared by the URLs, for DURATION;
# the rates of several receivers are summed, their latencies the worst.
load() {
  local label=$1; shift
  local n=$# i=0 lp=()
  for url in "$@"; do
    i=$((i + 1))
    "$BIN" simulate --url "$url" --secret "$SECRET" --random --users "$USERS" --concurrency $((CONCURRENCY / n)) \
      --duration "$DURATION" --json 2>/dev/null > "$OUT/$label.$i.json" &
    lp+=($!)
  done
  for p in "${lp[@]}"; do wait "$p" || true; done
  python3 - "$OUT/$label" "$n" > "$OUT/$label.json" <<'EOF'
import json, sys
base, n = sys.argv[1], int(sys.argv[2])
rs = [json.load(open(f"{base}.{i}.json")) for i in range(1, n + 1)]
print(json.dumps({
    "acknowledgedPerSecond": sum(r["acknowledgedPerSecond"] for r in rs),
    "acknowledged": sum(r["acknowledged"] for r in rs),
    "failed": sum(r["sent"] - r["acknowledged"] for r in rs),
    "byStatus": [r["byStatus"] for r in rs],
    "p50": max(r["latencyMs"]["p50"] for r in rs),
    "p99": max(r["latencyMs"]["p99"] for r in rs),
}))
EOF
}

# measure LABEL DSN URL...: one load run on running servers, then the projector's catch-up.
measure() {
  local label=$1 dsn=$2; shift 2
  local before la t0 t1 after lag0 now l drain=-
  before=$(stored "$dsn")
  la=$(loadavg)
  echo "== $label: c=$CONCURRENCY, $DURATION, $before events stored, load average $la"
  t0=$(date +%s.%N)
  load "$label" "$@"
  t1=$(date +%s.%N)
  after=$(stored "$dsn")
  lag0=$(lag "$dsn")
  if [ -n "$lag0" ]; then
    : > "$OUT/$label.lag.tsv"
    l=$lag0
    while [ "$l" -gt 0 ]; do
      now=$(date +%s.%N)
      echo "$(python3 -c "print(f'{$now - $t1:.1f}')") $l" >> "$OUT/$label.lag.tsv"
      if python3 -c "import sys; sys.exit(0 if $now - $t1 > $DRAIN_TIMEOUT else 1)"; then
        echo "   projector still $l events behind after ${DRAIN_TIMEOUT}s" >&2
        break
      fi
      sleep 0.5
      l=$(lag "$dsn")
    done
    if [ "$lag0" -eq 0 ]; then drain=0; elif [ "$l" -eq 0 ]; then drain=$(python3 -c "print(f'{$(date +%s.%N) - $t1:.1f}')"); fi
  fi
  python3 - "$OUT/$label.json" "$RESULTS" "$label" "$before" "$after" "$t0" "$t1" "${lag0:--}" "$drain" "$la" <<'EOF'
import json, sys
f, results, label, before, after, t0, t1, lag0, drain, la = sys.argv[1:]
r = json.load(open(f))
run = float(t1) - float(t0)
stored = int(after) - int(before)
during = catchup = "-"
if lag0 != "-":
    during = f"{(stored - int(lag0)) / run:.0f}"
    if drain != "-" and float(drain) > 0 and int(lag0) > 0:
        catchup = f"{int(lag0) / float(drain):.0f}"
with open(results, "a") as out:
    print("\t".join([label, f"{r['acknowledgedPerSecond']:.0f}", f"{r['p50']:.1f}", f"{r['p99']:.1f}", str(r["failed"]),
                     before, lag0, drain, during, catchup, la]), file=out)
EOF
  echo "   $(tail -1 "$RESULTS" | cut -f2-)"
}

bare() {
  echo "== bare Fiber handler, c=$CONCURRENCY, $DURATION, load average $(loadavg)"
  "$BIN" bare-receiver --addr "$BARE_ADDR" > "$OUT/bare.log" 2>&1 &
  pids+=($!)
  sleep 0.5
  local la
  la=$(loadavg)
  load bare "http://$BARE_ADDR/webhooks/smile"
  stop_servers
  python3 - "$OUT/bare.json" "$RESULTS" "$la" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
with open(sys.argv[2], "a") as out:
    print("\t".join(["bare", f"{r['acknowledgedPerSecond']:.0f}", f"{r['p50']:.1f}", f"{r['p99']:.1f}", str(r["failed"]),
                     "-", "-", "-", "-", "-", sys.argv[3]]), file=out)
EOF
}

# fill DSN URL: adds events until the store holds STORED, then waits for the projector.
fill() {
  local have
  have=$(stored "$1")
  while [ "$have" -lt "$STORED" ]; do
    "$BIN" simulate --url "$2" --secret "$SECRET" --random --users "$USERS" --events $((STORED - have)) \
      --concurrency "$CONCURRENCY" --json 2>/dev/null > "$OUT/fill.json" || true
    have=$(stored "$1")
    echo "   stored: $have"
  done
  while [ "$(lag "$1")" != "" ] && [ "$(lag "$1")" -gt 0 ]; do sleep 1; done
}

sqlite_runs() {
  rm -rf "$OUT/data"
  serve smiledash.db "${ADDRS[0]}" "$OUT/server.log"
  local server=${pids[-1]}
  ( while kill -0 "$server" 2>/dev/null; do echo "$(date +%s) $(ps -o rss= -p "$server")" >> "$OUT/rss.txt"; sleep 2; done ) &
  measure sqlite-empty smiledash.db "http://${ADDRS[0]}/webhooks/smile"
  if [ -n "$FILL_DIR" ] && [ -d "$FILL_DIR" ]; then
    stop_servers
    echo "== copying $FILL_DIR"
    rm -rf "$OUT/data" && cp -r "$FILL_DIR" "$OUT/data"
    serve smiledash.db "${ADDRS[0]}" "$OUT/server.log"
  fi
  echo "== filling the store to $STORED events"
  fill smiledash.db "http://${ADDRS[0]}/webhooks/smile"
  if [ -n "$FILL_DIR" ] && [ ! -d "$FILL_DIR" ]; then
    stop_servers
    cp -r "$OUT/data" "$FILL_DIR"
    serve smiledash.db "${ADDRS[0]}" "$OUT/server.log"
  fi
  measure sqlite-full smiledash.db "http://${ADDRS[0]}/webhooks/smile"
  stop_servers
  echo "   store: $(du -sh "$OUT/data" | cut -f1)"
}

# pg_run LABEL REPLICAS: a new database, REPLICAS servers on it, one measurement.
pg_run() {
  local db="bench_${RANDOM}_$$" dsn urls=()
  createdb "$(pg_arg)" "$db"
  databases+=("$db")
  dsn="$PG_URL/$db?sslmode=disable"
  for i in $(seq 0 $(($2 - 1))); do
    serve "$dsn" "${ADDRS[$i]}" "$OUT/server-$1-$i.log" # one at a time: the first migrates
    urls+=("http://${ADDRS[$i]}/webhooks/smile")
  done
  measure "$1" "$dsn" "${urls[@]}"
  stop_servers
  dropdb "$(pg_arg)" "$db"
}

bare
if [ "$MODE" != postgres ]; then sqlite_runs; fi
if [ "$MODE" != sqlite ]; then
  pg_run pg-1 1
  pg_run pg-2 2
fi

summary="$OUT/summary.txt"
{
  echo "ingest benchmark, $(nproc) cores, c=$CONCURRENCY, $DURATION per run, $USERS random users, $(date -u +%FT%TZ)"
  echo "binary: $BIN ($(git describe --always --dirty 2>/dev/null || echo '?') when built here)"
  python3 - "$RESULTS" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
bare = next((float(r[1]) for r in rows if r[0] == "bare"), 0)
head = ("run", "ev/s", "x bare", "p50 ms", "p99 ms", "failed", "stored", "lag", "drain s", "proj/s run", "proj/s alone", "load avg")
print("%-13s %8s %7s %7s %7s %7s %8s %8s %8s %10s %12s  %s" % head)
for r in rows:
    ratio = f"{float(r[1]) / bare:.2f}" if bare else "-"
    print("%-13s %8s %7s %7s %7s %7s %8s %8s %8s %10s %12s  %s" % (r[0], r[1], ratio, *r[2:]))
EOF
  echo "lag: events not projected when the load stopped; drain: seconds from then until none were;"
  echo "proj/s run: events projected per second during the load; proj/s alone: lag / drain."
  [ -s "$OUT/rss.txt" ] && echo "server RSS (KiB) min/max over the SQLite runs: $(awk 'NF == 2 {print $2}' "$OUT/rss.txt" | sort -n | sed -n '1p;$p' | paste -sd/)"
} | tee "$summary"
