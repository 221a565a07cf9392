#!/usr/bin/env bash
# Measures durable webhook ingest end to end on this machine, in one run:
#   1. a bare Fiber handler answering 200 (the ceiling),
#   2. smiledash (signed, verified, committed with projections, acknowledged),
#   3. smiledash again once 1,000,000 events are stored.
# The load generator is `smiledash simulate` on the same machine, over loopback.
# Usage: scripts/bench-ingest.sh   (or: make bench-ingest)
# Knobs: CONCURRENCY (64), DURATION (20s), STORED (1000000), OUT (bench-out).
set -euo pipefail
cd "$(dirname "$0")/.."

CONCURRENCY=${CONCURRENCY:-64}
DURATION=${DURATION:-20s}
STORED=${STORED:-1000000}
OUT=${OUT:-bench-out}
BIN="$OUT/smiledash"
SECRET=bench-secret-0001
SERVER_ADDR=127.0.0.1:18080
BARE_ADDR=127.0.0.1:18181

mkdir -p "$OUT"
rm -rf "$OUT/data"
export CGO_ENABLED=1
go build -o "$BIN" ./cmd/smiledash

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_up() { for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "server at $1 did not come up" >&2; return 1; }

load() { # url label
  "$BIN" simulate --url "$1" --secret "$SECRET" --users 100000000 --concurrency "$CONCURRENCY" \
    --duration "$DURATION" --json 2>/dev/null > "$OUT/$2.json"
}

field() { python3 -c "import json,sys; r=json.load(open('$1')); print($2)"; }

echo "== 1/3 bare Fiber handler, c=$CONCURRENCY, $DURATION"
"$BIN" bare-receiver --addr "$BARE_ADDR" > "$OUT/bare.log" 2>&1 & pids+=($!)
sleep 0.5
load "http://$BARE_ADDR/webhooks/smile" bare
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

echo "== 2/3 smiledash, empty store, c=$CONCURRENCY, $DURATION"
SMILEDASH_DATA_DIR="$OUT/data" SMILEDASH_ADDR="$SERVER_ADDR" SMILEDASH_WEBHOOK_SECRETS="$SECRET" \
  SMILEDASH_WEBHOOK_ALLOWED_IPS=127.0.0.1 SMILEDASH_LOG_LEVEL=warn SMILE_API_KEY= \
  "$BIN" serve > "$OUT/server.log" 2>&1 & server=$!; pids+=($server)
wait_up "http://$SERVER_ADDR/healthz"
rss_log="$OUT/rss.txt"; : > "$rss_log"
( while kill -0 "$server" 2>/dev/null; do echo "$(date +%s) $(ps -o rss= -p "$server")" >> "$rss_log"; sleep 2; done ) & pids+=($!)
load "http://$SERVER_ADDR/webhooks/smile" smiledash-empty

stored() { curl -fsS "http://$SERVER_ADDR/metrics" | awk '/^smiledash_webhook_deliveries_total\{.*outcome="stored"/ {s+=$2} END {printf "%d", s}'; }
echo "== 3/3 filling the store to $STORED events"
have=$(stored)
while [ "$have" -lt "$STORED" ]; do
  need=$(( (STORED - have) / 12 + 1 ))
  "$BIN" simulate --url "http://$SERVER_ADDR/webhooks/smile" --secret "$SECRET" --users "$need" \
    --concurrency "$CONCURRENCY" --json 2>/dev/null > "$OUT/fill.json" || true
  have=$(stored)
  echo "   stored: $have"
done
echo "   measuring with $have events stored, c=$CONCURRENCY, $DURATION"
load "http://$SERVER_ADDR/webhooks/smile" smiledash-full

bare=$(field "$OUT/bare.json" "round(r['acknowledgedPerSecond'])")
empty=$(field "$OUT/smiledash-empty.json" "round(r['acknowledgedPerSecond'])")
full=$(field "$OUT/smiledash-full.json" "round(r['acknowledgedPerSecond'])")
summary="$OUT/summary.txt"
{
  echo "ingest benchmark, $(nproc) cores, c=$CONCURRENCY, $DURATION per run, $(date -u +%FT%TZ)"
  printf "%-34s %10s %10s %10s %10s\n" "run" "events/s" "p50 ms" "p99 ms" "failed"
  for r in bare smiledash-empty smiledash-full; do
    printf "%-34s %10s %10s %10s %10s\n" "$r" \
      "$(field "$OUT/$r.json" "round(r['acknowledgedPerSecond'])")" \
      "$(field "$OUT/$r.json" "r['latencyMs']['p50']")" \
      "$(field "$OUT/$r.json" "r['latencyMs']['p99']")" \
      "$(field "$OUT/$r.json" "r['sent']-r['acknowledged']")"
  done
  echo "smiledash / bare: $(python3 -c "print(f'{$empty/$bare:.0%}')")"
  echo "events stored before the last run: $have"
  echo "server RSS (KiB) min/max over the runs: $(awk '{print $2}' "$rss_log" | sort -n | sed -n '1p;$p' | paste -sd/)"
} | tee "$summary"
