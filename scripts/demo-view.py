#!/usr/bin/env python3
"""What `make demo` prints: the messages that reach the broker, as a person reads them.

Reads `mosquitto_sub -v` lines (topic, space, payload) on stdin. Readings are summarised, one line per
device at most every few seconds; alerts are printed in full, in words, the moment they arrive.
Standard library only.
"""
import json
import sys
import time

SPEED = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
EVERY = 5.0  # seconds between reading lines for one device
last_line = {}


def clock():
    return time.strftime("%H:%M:%S")


def reading_line(device, payload):
    parts = []
    for name, r in payload.get("readings", {}).items():
        value = r.get("value")
        text = "—" if value is None else f"{value:g}"
        quality = r.get("quality", "")
        flag = "" if quality == "good" else f" [{quality}]"
        parts.append(f"{name} {text} {r.get('unit', '')}".rstrip() + flag)
    return f"{clock()}  {device:<14} " + ", ".join(parts)


def alert_lines(e):
    sev = e.get("severity", "").upper()
    where = f"{e.get('device')}.{e.get('channel')}"
    if e.get("phase") == "raise":
        bar = "!" * 72
        return [bar, f"{clock()}  ALERT {sev} ({e.get('kind')}) on {where}", f"          {e.get('message')}", bar]
    return [f"{clock()}  cleared ({e.get('kind')}) on {where}: {e.get('message')}"]


def main():
    if SPEED != 1:
        print(f"(the demo's clock runs {SPEED:g}× faster: a minute in an alert's words passes in "
              f"{60 / SPEED:g} s here; readings print every {EVERY:g} s per device)", flush=True)
    for raw in sys.stdin:
        topic, _, body = raw.rstrip("\n").partition(" ")
        try:
            payload = json.loads(body)
        except ValueError:
            if topic.endswith("/status"):
                print(f"{clock()}  agent is {body}", flush=True)
            continue
        if topic.endswith("/alerts"):
            for line in alert_lines(payload):
                print(line, flush=True)
        elif topic.endswith("/alerts/active"):
            active = payload.get("active", [])
            names = ", ".join(f"{a['device']}.{a['channel']} ({a['kind']})" for a in active) or "none"
            print(f"{clock()}  active alerts now: {names}", flush=True)
        elif topic.endswith("/state"):
            device = payload.get("device", "?")
            now = time.monotonic()
            if now - last_line.get(device, 0) >= EVERY:
                last_line[device] = now
                print(reading_line(device, payload), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
