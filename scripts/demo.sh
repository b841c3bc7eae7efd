#!/usr/bin/env bash
# The demo site: coop-edge-sim serves Firmware-Configs/sites/demo.yaml's devices on 127.0.0.1:1502,
# a Mosquitto broker listens on 127.0.0.1:1883 (an already-running one is used as it is), the agent
# polls, stores and publishes, and what reaches the broker is printed as a person reads it
# (scripts/demo-view.py). Time runs 120× faster for the simulator and for the agent's detectors and
# rules: a defrost every 6 simulated hours, and cold room 2's compressor fails 3½ hours in (under two
# real minutes) and is repaired an hour later, every 6 hours (between the same two defrosts each time). Commands typed while it runs go to the
# simulator (`fail cold-room-1`, `repair cold-room-1`, `set cold-room-1.temperature 12`, `values`).
# Ctrl-C stops every process this script started.
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
SPEED=120
# The simulated clock, shared by the simulator and the agent: it starts at 23:00 UTC "yesterday", so the
# declared defrosts (every 6 h from midnight) come 1 h in and every 6 h after, and the failure at 3½ h
# falls between two of them whatever the time of day the demo is started.
WALL=$(date +%s)
CLOCK="$(( WALL / 86400 * 86400 - 3600 ))@$WALL"
rm -f demo-state/sim.in && mkfifo demo-state/sim.in
# The simulator's stdin stays open (tail) so commands typed below reach it through the fifo.
tail -f demo-state/sim.in | $BIN/coop-edge-sim --site "$SITE" --speed $SPEED --demo-clock "$CLOCK" \
  --at "210m fail cold-room-2" --at "270m repair cold-room-2" --repeat 6h > demo-state/sim.log 2>&1 &
pids+=($!)
for _ in $(seq 50); do port_open 1502 && port_open 1883 && break; sleep 0.1; done
if ! port_open 1502; then
  echo "the simulator did not start:" >&2; cat demo-state/sim.log >&2; exit 1
fi
mosquitto_sub -h 127.0.0.1 -p 1883 -t 'coop/#' -v | python3 scripts/demo-view.py $SPEED &
pids+=($!)
# The simulator's scheduled events and its answers to typed commands.
tail -n +1 -f demo-state/sim.log | grep --line-buffered -E '^(at |ok|error)' | sed -u 's/^/simulator: /' &
$BIN/coop-edge check-config "$SITE" || exit 1
$BIN/coop-edge run --config "$SITE" --time-scale $SPEED --demo-clock "$CLOCK" 2> demo-state/agent.log &
pids+=($!)
agent=$!
echo "demo running (agent log: demo-state/agent.log). Cold room 2's compressor fails in about 2 minutes."
echo "Type a simulator command (fail cold-room-1, repair cold-room-1, values) and Enter; Ctrl-C to stop."
if [ -t 0 ]; then
  while kill -0 $agent 2>/dev/null && read -r line; do
    [ -n "$line" ] && echo "$line" > demo-state/sim.in
  done
fi
wait $agent
