#!/usr/bin/env bash
# Makes sure the machine's RabbitMQ answers on 127.0.0.1:5672 (the stream tests need it), starting the
# Debian server when it is down, and installing it when it is missing.
set -euo pipefail
HOST="${DATAHEALTH_TEST_RABBITMQ_HOST:-127.0.0.1}"
PORT="${DATAHEALTH_TEST_RABBITMQ_PORT:-5672}"
answers() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }
if answers; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
  echo "installing Debian package: rabbitmq-server"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
fi
echo "RabbitMQ is not answering on $HOST:$PORT; starting it"
PATH="$PATH:/usr/sbin" $SUDO rabbitmq-server -detached || true
for _ in $(seq 1 120); do
  answers && exit 0
  sleep 0.5
done
echo "RabbitMQ did not come up on $HOST:$PORT" >&2
exit 1
