#!/usr/bin/env bash
# Makes sure the machine's MariaDB (or MySQL) answers on 127.0.0.1:3306 (the MySQL engine's tests need it),
# starting the server when it is down.
set -euo pipefail
HOST="${DATAHEALTH_TEST_MYSQL_HOST:-127.0.0.1}"
PORT="${DATAHEALTH_TEST_MYSQL_PORT:-3306}"
answers() {
  if command -v mariadb-admin >/dev/null 2>&1; then
    mariadb-admin --host="$HOST" --port="$PORT" --user=root --connect-timeout=2 ping >/dev/null 2>&1
  else
    mysqladmin --host="$HOST" --port="$PORT" --user=root --connect-timeout=2 ping >/dev/null 2>&1
  fi
}
answers && exit 0
echo "MariaDB is not answering on $HOST:$PORT; starting it"
SERVER=$(command -v mariadbd || command -v mysqld || echo /usr/sbin/mariadbd)
if [ ! -x "$SERVER" ]; then
  echo "no MariaDB server installed (apt-get install mariadb-server)" >&2
  exit 1
fi
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld 2>/dev/null || true
start-stop-daemon --start --oknodo --background --exec "$SERVER" -- --user=mysql
for _ in $(seq 1 60); do
  answers && exit 0
  sleep 0.5
done
echo "MariaDB did not come up on $HOST:$PORT" >&2
exit 1
