#!/bin/sh
# Starts the reference Vapor node (vapord, single-node solonet) for `tributary bench load --target
# reference`, inside a loopback-only network namespace (its peer discovery binds UDP on every
# interface), unless its API already answers there. Nothing built from the reference is kept in the
# repository: the binary and its home stay under /tmp.
#
#   VAPORD   the vapord binary            (default /tmp/refbuild/bin/vapord)
#   VHOME    the node's home, a solonet with a federation key in its keystore; created as a copy of
#            $VHOME_TEMPLATE when absent  (default /tmp/refbench/vhome, template /tmp/refbuild/vhome)
#   NETNS    the namespace                (default refnet)
#   PORT     its API port (config.toml's api_addr) (default 9889)
#
# Usage: scripts/refbench-vapord.sh start|stop|status
set -eu
VAPORD=${VAPORD:-/tmp/refbuild/bin/vapord}
VHOME=${VHOME:-/tmp/refbench/vhome}
VHOME_TEMPLATE=${VHOME_TEMPLATE:-/tmp/refbuild/vhome}
NETNS=${NETNS:-refnet}
PORT=${PORT:-9889}
PIDFILE="$VHOME.pid"

answers() {
    ip netns exec "$NETNS" curl -s -m 2 -X POST "http://127.0.0.1:$PORT/get-block-count" -d '{}' 2>/dev/null |
        grep -q '"status":"success"'
}

case "${1:-start}" in
start)
    ip netns list | grep -qw "$NETNS" || { ip netns add "$NETNS"; ip -n "$NETNS" link set lo up; }
    if answers; then echo "vapord already answers on $NETNS:$PORT"; exit 0; fi
    if [ ! -d "$VHOME" ]; then
        mkdir -p "$(dirname "$VHOME")"
        cp -a "$VHOME_TEMPLATE" "$VHOME"
        rm -f "$VHOME/LOCK"
    fi
    ip netns exec "$NETNS" "$VAPORD" node --home "$VHOME" --mining --auth.disable \
        >"$VHOME.out" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 60); do
        if answers; then echo "vapord answers on $NETNS:$PORT (pid $(cat "$PIDFILE"))"; exit 0; fi
        sleep 1
    done
    echo "vapord did not answer within 60 s; see $VHOME.out and $VHOME/log" >&2
    exit 1
    ;;
stop)
    if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi
    ;;
status)
    if answers; then echo up; else echo down; exit 1; fi
    ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
