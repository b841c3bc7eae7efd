#!/usr/bin/env python3
"""Modbus RTU slaves on one serial line that answer late on purpose, written here from the Modbus
spec (not our Swift code), so that a late reply read as the wrong answer cannot hide behind a shared
mistake.

usage: late_rtu_slave.py DEVICE [--slave ID:FACTOR:EVERY ...] [--timeout-ms MS]

Each --slave serves holding and input registers for one slave id. Every EVERY-th request to it (1 =
every request) is answered FACTOR x MS late; the others at once. Each register answers with a word
that names the request it answers:
  even address a:  (slave << 8) | (a & 0xFF)             which slave and register this is
  odd address a+1: the time the request arrived, in hundredths of a second mod 65536
so a u32 channel at an even address reads as tag * 65536 + arrival time, and a test can tell a value
read into the wrong channel (tag) from a stale one (time before the poll that published it).
Coils and discrete inputs answer 1 at even addresses, 0 at odd ones.
Prints 'ready' once the port is open. Logs each late answer to stderr.
"""
import argparse
import sys
import threading
import time

import serial


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame(body):
    c = crc16(body)
    return bytes(body) + bytes([c & 0xFF, c >> 8])


def request_length(buf):
    """Length of the request frame at the start of buf, None if more bytes are needed, 0 if none fits."""
    if len(buf) < 2:
        return None
    fn = buf[1]
    if fn in (1, 2, 3, 4, 5, 6):
        return 8
    if fn in (15, 16):
        if len(buf) < 7:
            return None
        return 9 + buf[6]
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("device")
    ap.add_argument("--slave", action="append", default=[])
    ap.add_argument("--timeout-ms", type=float, default=100)
    args = ap.parse_args()
    slaves = {}
    for spec in args.slave:
        sid, factor, every = spec.split(":")
        slaves[int(sid)] = {"factor": float(factor), "every": int(every), "count": 0}

    port = serial.Serial(args.device, 9600, timeout=0.01)
    lock = threading.Lock()
    print("ready", flush=True)

    def answer(sid, fn, addr, count, arrived):
        if fn in (3, 4):
            words = []
            for a in range(addr, addr + count):
                words.append(((sid << 8) | (a & 0xFF)) if a % 2 == 0 else int(arrived * 100) % 65536)
            data = b"".join(w.to_bytes(2, "big") for w in words)
        else:
            bits = [1 if a % 2 == 0 else 0 for a in range(addr, addr + count)]
            data = bytes(sum(bit << i for i, bit in enumerate(bits[j:j + 8])) for j in range(0, count, 8))
        return frame(bytes([sid, fn, len(data)]) + data)

    def send(reply):
        with lock:
            port.write(reply)
            port.flush()

    buf = b""
    while True:
        chunk = port.read(256)
        if not chunk:
            continue
        buf += chunk
        while buf:
            n = request_length(buf)
            if n is None or (n and len(buf) < n):
                break
            if n == 0 or crc16(buf[:n]) != 0:
                buf = buf[1:]
                continue
            req, buf = buf[:n], buf[n:]
            arrived = time.time()
            sid, fn = req[0], req[1]
            if sid not in slaves:
                continue
            s = slaves[sid]
            s["count"] += 1
            if fn in (1, 2, 3, 4):
                addr = int.from_bytes(req[2:4], "big")
                count = int.from_bytes(req[4:6], "big")
                reply = answer(sid, fn, addr, count, arrived)
            else:  # writes: the reply echoes slave, function, address and value or quantity
                reply = frame(req[:6])
            late = s["every"] > 0 and s["count"] % s["every"] == 0 and s["factor"] > 0
            if late:
                delay = s["factor"] * args.timeout_ms / 1000
                print(f"slave {sid} request {s['count']} answered {delay:.3f} s late", file=sys.stderr, flush=True)
                threading.Timer(delay, send, [reply]).start()
            else:
                send(reply)


if __name__ == "__main__":
    main()
