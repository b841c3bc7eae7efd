#!/usr/bin/env bash
# The demo site: coop-edge-sim serves Firmware-Configs/sites/demo.yaml's devices on 127.0.0.1:1502,
# a Mosquitto broker listens on 127.0.0.1:1883 (an already-running one is used as it is), the agent
# polls, stores and publishes, and every message that reaches the broker is printed. Ctrl-C stops
# every process this script started.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.build/debug
SITE=Firmware-Configs/sites/demo.yaml
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping…"
  # Newest first, each waited for: the agent flushes to the broker before the broker goes.
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[$i]}" 2>/dev/null
    for _ in $(seq 100); do kill -0 "${pids[$i]}" 2>/dev/null || break; sleep 0.1; done
  done
  pkill -P $$ 2>/dev/null  # the tail feeding the simulator's stdin
  wait 2>/dev/null
  echo "demo stopped; the outbox stays in demo-state/ (coop-edge status --config $SITE)"
}
trap cleanup INT TERM EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mkdir -p demo-state
if port_open 1883; then
  echo "using the MQTT broker already listening on 127.0.0.1:1883"
else
  printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' > demo-state/mosquitto.conf
  mosquitto -c demo-state/mosquitto.conf > demo-state/mosquitto.log 2>&1 &
  pids+=($!)
fi
if port_open 1502; then
  echo "port 1502 is taken: stop whatever listens there (ss -ltnp 'sport = :1502') and run make demo again" >&2
  exit 1
fi
# Sixty-fold time: a compressor cycle takes 20 s instead of 20 minutes. stdin stays open for commands.
tail -f /dev/null | $BIN/coop-edge-sim --site "$SITE" --speed 60 > demo-state/sim.log 2>&1 &
pids+=($!)
for _ in $(seq 50); do port_open 1502 && port_open 1883 && break; sleep 0.1; done
mosquitto_sub -h 127.0.0.1 -p 1883 -t 'coop/#' -v &
pids+=($!)
$BIN/coop-edge check-config "$SITE" || exit 1
$BIN/coop-edge run --config "$SITE" &
pids+=($!)
echo "demo running: readings print below as they reach the broker. Ctrl-C to stop."
wait "${pids[-1]}"
