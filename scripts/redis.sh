#!/usr/bin/env bash
# Prints a REDIS_URL that answers PING: $REDIS_URL or the local default when
# one answers, otherwise a throwaway redis-server (no persistence) started on
# a free port whose data dir is removed when it stops.
set -euo pipefail
url=${REDIS_URL:-redis://127.0.0.1:6379/0}
hostport=${url#redis://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
host=${hostport%:*}; port=${hostport##*:}
if redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG; then
  echo "$url"; exit 0
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 6399)
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize yes \
  --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >/dev/null
for _ in $(seq 1 50); do
  if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
    echo "redis://127.0.0.1:$port/0"; exit 0
  fi
  sleep 0.1
done
echo "redis: could not start a throwaway redis-server (see $dir/redis.log)" >&2
exit 1
