#!/usr/bin/env bash
# Makes sure the machine's PostgreSQL answers on 127.0.0.1:5432 (the integration tests need it),
# starting the cluster when it is down.
set -euo pipefail
HOST="${DATAHEALTH_TEST_PG_HOST:-127.0.0.1}"
PORT="${DATAHEALTH_TEST_PG_PORT:-5432}"
if pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; then
  exit 0
fi
echo "PostgreSQL is not answering on $HOST:$PORT; starting it"
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 60); do
  pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null && exit 0
  sleep 0.5
done
echo "PostgreSQL did not come up on $HOST:$PORT" >&2
exit 1
