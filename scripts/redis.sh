#!/usr/bin/env bash
# A throwaway redis-server on 127.0.0.1 for tests and local runs; no persistence.
#   scripts/redis.sh [PORT]     install redis-server if missing, start one on PORT
#                               (default 6379) in the background, print the port
#   scripts/redis.sh stop [PORT]
# Idempotent: a server already answering on PORT is left as it is.
set -euo pipefail

cmd=start
if [[ "${1:-}" == "stop" ]]; then cmd=stop; shift; fi
port="${1:-6379}"
dir="/tmp/newsmill-redis-$port"
pidfile="$dir/redis.pid"

if [[ "$cmd" == "stop" ]]; then
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        pid="$(cat "$pidfile")"
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$dir"
    exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
fi

if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
    echo "$port"
    exit 0
fi

mkdir -p "$dir"
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$pidfile" --logfile "$dir/redis.log" >&2
for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && { echo "$port"; exit 0; }
    sleep 0.1
done
echo "redis-server did not answer on port $port; see $dir/redis.log" >&2
exit 1
