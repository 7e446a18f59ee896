#!/bin/sh
# The side-by-side load benchmark of docs/BENCHMARKS.md ("Load through submit-transactions: our node
# and the reference vapord"): the same `tributary bench load` against a fresh solo `tributary devnet`
# and against the reference vapord (single-node solonet, started by scripts/refbench-vapord.sh),
# RUNS times each, unpaced (sustained final tx/s over WINDOW seconds) and then paced at half the
# median sustained rate (latency). One JSON report per run in $OUT.
#
#   TRIBUTARY  the release binary             (default target/release/tributary)
#   OUT        where the reports go           (default /tmp/refbench/results)
#   RUNS       runs per configuration         (default 3)
#   WINDOW     sustained-rate window, seconds (default 60)
#   OURS_TXS   transfers per unpaced run on our node  (default 240000)
#   REF_TXS    transfers per unpaced run on vapord    (default 20000)
#   HALF_SECS  seconds of load in a paced run         (default 30)
#   PHASES     which nodes to measure, in order  (default "ours ref")
#   FED_PASSWORD_FILE  the federation key's password in the vapord home (default /tmp/refbench/fed.password)
set -eu
TRIBUTARY=${TRIBUTARY:-target/release/tributary}
OUT=${OUT:-/tmp/refbench/results}
RUNS=${RUNS:-3}
WINDOW=${WINDOW:-60}
OURS_TXS=${OURS_TXS:-240000}
REF_TXS=${REF_TXS:-20000}
HALF_SECS=${HALF_SECS:-30}
FED_PASSWORD_FILE=${FED_PASSWORD_FILE:-/tmp/refbench/fed.password}
NETNS=${NETNS:-refnet}
PHASES=${PHASES:-ours ref}
DIR=$(dirname "$0")
mkdir -p "$OUT"

median_sustained() { # files...
    python3 -c 'import json,sys,statistics; print(statistics.median(json.load(open(f))["sustained_final_tx_per_s"] or 0 for f in sys.argv[1:]))' "$@"
}

ours() { # name, extra args...
    name=$1; shift
    data=$(mktemp -d /tmp/refbench/devnet.XXXXXX)
    "$TRIBUTARY" devnet --validators 1 --data-dir "$data/d" --listen 127.0.0.1:0 --no-main-chain >"$data/out" 2>"$data/err" &
    pid=$!
    for _ in $(seq 1 100); do [ -s "$data/out" ] && break; sleep 0.1; done
    url=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["api_url"])' "$data/out")
    token=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["access_token"])' "$data/out")
    status=0
    "$TRIBUTARY" bench load --api "$url" --token "$token" --password-file "$data/d/dev.password" "$@" \
        >"$OUT/$name.json" || status=$?
    kill "$pid"; wait "$pid" || true
    rm -rf "$data"
    [ "$status" = 0 ] || exit "$status"
    echo "$name: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["sustained_final_tx_per_s"], r["latency_final_ms"], r["load_average_during"])' "$OUT/$name.json")"
}

reference() { # name, extra args...
    name=$1; shift
    ip netns exec "$NETNS" "$TRIBUTARY" bench load --target reference --api http://127.0.0.1:9889 \
        --password-file "$FED_PASSWORD_FILE" "$@" >"$OUT/$name.json"
    echo "$name: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["sustained_final_tx_per_s"], r["latency_final_ms"], r["load_average_during"])' "$OUT/$name.json")"
}

# Our node alone on the machine, then the reference alone.
case " $PHASES " in *" ours "*)
"$DIR/refbench-vapord.sh" stop
for i in $(seq 1 "$RUNS"); do
    ours "ours-max-$i" --txs "$OURS_TXS" --batch 100 --clients 4 --window-secs "$WINDOW"
done
half=$(python3 -c "print(round($(median_sustained "$OUT"/ours-max-*.json) / 2))")
for i in $(seq 1 "$RUNS"); do
    ours "ours-half-$i" --txs $((half * HALF_SECS)) --rate "$half" --batch 20 --clients 4 --window-secs $((HALF_SECS - 10))
done
;; esac

case " $PHASES " in *" ref "*)
"$DIR/refbench-vapord.sh" start
for i in $(seq 1 "$RUNS"); do
    reference "ref-max-$i" --txs "$REF_TXS" --batch 100 --clients 4 --window-secs "$WINDOW"
done
rhalf=$(python3 -c "print(round($(median_sustained "$OUT"/ref-max-*.json) / 2))")
for i in $(seq 1 "$RUNS"); do
    reference "ref-half-$i" --txs $((rhalf * HALF_SECS)) --rate "$rhalf" --batch 20 --clients 4 --window-secs $((HALF_SECS - 10))
done
"$DIR/refbench-vapord.sh" stop
;; esac
