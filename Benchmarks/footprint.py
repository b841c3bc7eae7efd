#!/usr/bin/python3
"""Footprint of the agent at two loads, against an independent Modbus TCP server and a real broker.

Issue 9's benchmark: the release agent (`make release`) polls a pymodbus server (Debian's
python3-pymodbus; not our simulator, so our client and our server cannot share a mistake) and
publishes to a local mosquitto. Two loads:

  fast   10 devices x 10 holding registers every 100 ms (1,000 readings/s)
  field  20 devices x  5 holding registers every 1 s     (100 channels, 100 readings/s)
  wide  100 devices x 10 holding registers every 1 s     (1,000 channels; not in "both")

For each, with the broker up, it prints per reading: agent CPU (utime+stime from /proc/PID/stat),
bytes the agent caused to be written to storage (write_bytes of /proc/PID/io: WAL appends,
checkpoints and the sequence-reservation file all count), MQTT payload bytes; and peak RSS (VmHWM),
the schedule kept (p50/p99 of the interval between a device's polls, from the payloads' own
timestamps), sample-to-broker latency p50/p99 (the subscriber's receive time minus the poll time,
one clock). Then the broker is stopped for a window and bytes written per reading are measured
while everything goes to the outbox.

usage: Benchmarks/footprint.py [--agent BIN] [--load fast|field|both] [--seconds 60] [--down 30]
                               [--detect]      (a generic detector on every channel)
       Benchmarks/footprint.py --backlog HOURS [--bench BIN]
           the field site starts on an outbox holding HOURS of undelivered polls (written by
           `coop-edge-bench make-backlog`) with the broker up: how long the drain takes while live
           polling goes on, and the live readings' latency meanwhile
       Benchmarks/footprint.py --load fast --detect --soak MINUTES
           memory that stays flat: RSS, fds and threads once a minute
Run by `make bench-footprint` (which builds the release binaries first).
The working directory must be on a real disk: write_bytes counts nothing on a tmpfs.
"""
import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# pymodbus comes from Debian (python3-pymodbus), so its server runs on Debian's interpreter.
DEBIAN_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADS = {
    "fast": dict(devices=10, registers=10, poll="100ms", period=0.1),
    "field": dict(devices=20, registers=5, poll="1s", period=1.0),
    "wide": dict(devices=100, registers=10, poll="1s", period=1.0),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    sys.exit(f"footprint: timed out waiting for {what}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def proc_cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_write_bytes(pid):
    for line in open(f"/proc/{pid}/io"):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def proc_status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB
    return 0


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


PYMODBUS_SERVER = r'''
import asyncio, random, sys
from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSequentialDataBlock
from pymodbus.server import StartAsyncTcpServer
port, devices, registers = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
blocks = {d: ModbusSequentialDataBlock(0, [1000 + 10 * r for r in range(registers + 1)]) for d in range(1, devices + 1)}
slaves = {d: ModbusSlaveContext(hr=b, zero_mode=True) for d, b in blocks.items()}
context = ModbusServerContext(slaves=slaves, single=False)
async def wander():
    # Values move a little every second, as sensors do, so nothing looks stuck.
    while True:
        await asyncio.sleep(1)
        for b in blocks.values():
            b.setValues(0, [max(0, v + random.randint(-3, 3)) for v in b.getValues(0, registers)])
async def main():
    asyncio.create_task(wander())
    await StartAsyncTcpServer(context, address=("127.0.0.1", port))
asyncio.run(main())
'''


class DrainCounter:
    """Counts backlog polls at the broker (seq up to `backlog_seq`, which every device's backlog
    ends at) without parsing JSON, and times the live ones (later seqs)."""

    SEQ = re.compile(r'"seq":(\d+)')
    TIME = re.compile(r'"time":([0-9.]+)')

    def __init__(self, port, topic, backlog_seq):
        self.proc = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1", "-F", "%U|%p"],
            stdout=subprocess.PIPE, text=True, bufsize=1)
        self.backlog_seq = backlog_seq
        self.lock = threading.Lock()
        self.backlog = 0
        self.messages = 0
        self.live_latency = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            received, _, payload = line.partition("|")
            seqs = [int(x) for x in self.SEQ.findall(payload)]
            old = sum(1 for q in seqs if q <= self.backlog_seq)
            with self.lock:
                self.messages += 1
                self.backlog += old
            if old == 0 and len(seqs) == 1:
                t = self.TIME.search(payload)
                if t:
                    with self.lock:
                        self.live_latency.append((float(received) - float(t.group(1))) * 1000)

    def stop(self):
        self.proc.terminate()


class Subscriber:
    """mosquitto_sub printing receive time, payload length and payload for every state message."""

    def __init__(self, port, topic):
        self.proc = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1", "-F", "%U|%l|%p"],
            stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lock = threading.Lock()
        self.recording = False
        self.messages = []  # (received, payload bytes, device, poll time) while recording
        self.total = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                received, length, payload = line.rstrip("\n").split("|", 2)
                body = json.loads(payload)
            except ValueError:
                continue
            polls = body.get("polls") or [body]
            with self.lock:
                self.total += 1
                if self.recording:
                    for p in polls:
                        self.messages.append((float(received), int(length) / len(polls),
                                              body.get("device", p.get("device")), p.get("time"),
                                              len(p.get("readings", {}))))

    def stop(self):
        self.proc.terminate()


def write_site(d, devices, registers, poll, broker_port, modbus_port, detect=False, storage_extra=""):
    """The benchmark's profile (REGISTERS holding registers), site file and mosquitto config in D."""
    os.makedirs(f"{d}/profiles")
    with open(f"{d}/profiles/bench.yaml", "w") as f:
        f.write(f"model: benchmark device, {registers} holding registers\nmax_registers_per_read: {registers}\nchannels:\n")
        for r in range(registers):
            f.write(f"  r{r}: {{ function: holding, address: {r}, type: u16, scale: 0.1, unit: \"u\" }}\n")
    with open(f"{d}/site.yaml", "w") as f:
        f.write(f"coop: bench\nsite: s\nprofiles_dir: {d}/profiles\n"
                f"broker: {{ url: \"mqtt://127.0.0.1:{broker_port}\" }}\n"
                f"storage: {{ path: {d}/outbox.sqlite{storage_extra} }}\n"
                f"buses:\n  - {{ name: b0, tcp: {{ host: 127.0.0.1, port: {modbus_port} }} }}\ndevices:\n")
        for i in range(1, devices + 1):
            extra = ""
            if detect:
                extra = ", detect: { " + ", ".join(f"r{r}: generic" for r in range(registers)) + " }"
            f.write(f"  - {{ name: dev-{i}, bus: b0, slave: {i}, profile: bench, poll: {poll}{extra} }}\n")
    with open(f"{d}/mosquitto.conf", "w") as f:
        f.write(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\n")


def run_load(name, agent, seconds, down, detect, workdir, soak=0):
    load = LOADS[name]
    devices, registers = load["devices"], load["registers"]
    d = tempfile.mkdtemp(prefix=f"footprint-{name}-", dir=workdir)
    broker_port, modbus_port = free_port(), free_port()
    write_site(d, devices, registers, load["poll"], broker_port, modbus_port, detect)

    children = []
    def start(cmd, **kw):
        p = subprocess.Popen(cmd, **kw)
        children.append(p)
        return p
    try:
        start([DEBIAN_PYTHON, "-c", PYMODBUS_SERVER, str(modbus_port), str(devices), str(registers)],
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(modbus_port), 60, "the pymodbus server")
        broker = start(["mosquitto", "-c", f"{d}/mosquitto.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(broker_port), 10, "mosquitto")
        sub = Subscriber(broker_port, "coop/bench/s/+/state")
        agent_proc = start([agent, "run", "--config", f"{d}/site.yaml", "--log-level", "error"])
        pid = agent_proc.pid
        wait_for(lambda: sub.total >= devices * 3, 60, "the first polls at the broker")
        time.sleep(10)  # warm-up: schema, first commits, detectors' first windows

        # Broker up.
        with sub.lock:
            sub.recording = True
        cpu0, w0, t0 = proc_cpu(pid), proc_write_bytes(pid), time.monotonic()
        time.sleep(seconds)
        cpu1, w1, t1 = proc_cpu(pid), proc_write_bytes(pid), time.monotonic()
        with sub.lock:
            sub.recording = False
            msgs = list(sub.messages)
        readings = sum(m[4] for m in msgs)
        offered = devices * registers * (t1 - t0) / load["period"]
        by_device = {}
        for m in msgs:
            by_device.setdefault(m[2], []).append(m[3])
        intervals = []
        for times in by_device.values():
            times.sort()
            intervals += [(b - a) * 1000 for a, b in zip(times, times[1:])]
        latency = [(m[0] - m[3]) * 1000 for m in msgs]
        payload = sum(m[1] for m in msgs) / max(1, readings)
        rss = proc_status(pid, "VmRSS") / 1024
        print(f"{name}: {devices} devices x {registers} registers every {load['poll']}"
              f"{' (generic detector on every channel)' if detect else ''}, {seconds} s measured")
        print(f"  readings at the broker   {readings / (t1 - t0):8.0f} /s of {offered / (t1 - t0):.0f} offered")
        print(f"  CPU per reading          {(cpu1 - cpu0) * 1e6 / max(1, readings):8.2f} µs   "
              f"({(cpu1 - cpu0) / (t1 - t0) * 100:.1f} % of one core)")
        print(f"  written per reading      {(w1 - w0) / max(1, readings):8.1f} bytes (broker up)")
        print(f"  payload per reading      {payload:8.1f} bytes (MQTT payload)")
        print(f"  poll interval p50/p99    {pct(intervals, 50):8.1f} / {pct(intervals, 99):.1f} ms")
        print(f"  latency p50/p99          {pct(latency, 50):8.1f} / {pct(latency, 99):.1f} ms (poll to subscriber)")

        if soak:
            # Memory that stays flat: RSS, fds and threads once a minute for `soak` minutes.
            print(f"  soak: {soak} min at this load; minute, RSS MiB, fds, threads")
            first = None
            for minute in range(1, soak + 1):
                time.sleep(60)
                rss_now = proc_status(pid, "VmRSS") / 1024
                fds = len(os.listdir(f"/proc/{pid}/fd"))
                threads = proc_status(pid, "Threads")
                print(f"    {minute:4d} {rss_now:8.2f} {fds:4d} {threads:3d}", flush=True)
                if minute == 5:
                    first = rss_now
            if first is not None:
                print(f"  soak: RSS moved {proc_status(pid, 'VmRSS') / 1024 - first:+.2f} MiB after warm-up (minute 5 to {soak})")

        # Broker down: everything goes to the outbox.
        broker.terminate()
        broker.wait()
        time.sleep(3)
        cpu0, w0, t0 = proc_cpu(pid), proc_write_bytes(pid), time.monotonic()
        time.sleep(down)
        cpu1, w1, t1 = proc_cpu(pid), proc_write_bytes(pid), time.monotonic()
        polled = devices * registers * (t1 - t0) / load["period"]
        print(f"  written per reading      {(w1 - w0) / polled:8.1f} bytes (broker down, {down} s)")
        print(f"  CPU per reading          {(cpu1 - cpu0) * 1e6 / polled:8.2f} µs   (broker down)")
        print(f"  RSS now / peak           {rss:8.1f} / {proc_status(pid, 'VmHWM') / 1024:.1f} MiB")
        sub.stop()
    finally:
        for p in reversed(children):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(d, ignore_errors=True)


def run_backlog(agent, bench, hours, workdir):
    devices, registers = 20, 5
    d = tempfile.mkdtemp(prefix="footprint-backlog-", dir=workdir)
    broker_port, modbus_port = free_port(), free_port()
    write_site(d, devices, registers, "1s", broker_port, modbus_port, storage_extra=", max_size_mb: 4096")
    children = []
    try:
        out = subprocess.run([bench, "make-backlog", f"{d}/outbox.sqlite", str(devices), str(registers), str(hours)],
                             capture_output=True, text=True, check=True).stdout.strip()
        print(out)
        polls = int(out.split()[1])
        children.append(subprocess.Popen([DEBIAN_PYTHON, "-c", PYMODBUS_SERVER, str(modbus_port), str(devices), str(registers)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: port_open(modbus_port), 60, "the pymodbus server")
        children.append(subprocess.Popen(["mosquitto", "-c", f"{d}/mosquitto.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: port_open(broker_port), 10, "mosquitto")
        counter = DrainCounter(broker_port, "coop/bench/s/+/state", polls // devices)
        t0 = time.monotonic()
        proc = subprocess.Popen([agent, "run", "--config", f"{d}/site.yaml", "--log-level", "error"])
        children.append(proc)
        cpu0 = 0.0
        def drained():
            now = time.monotonic()
            if now - drained.last > 30:
                drained.last = now
                print(f"  ... {counter.backlog} of {polls} backlog polls at the broker after {now - t0:.0f} s", file=sys.stderr, flush=True)
            return counter.backlog >= polls
        drained.last = time.monotonic()
        wait_for(drained, hours * 3600, "the backlog at the broker")
        drain = time.monotonic() - t0
        cpu = proc_cpu(proc.pid) - cpu0
        with counter.lock:
            lat = list(counter.live_latency)
            messages = counter.messages
        print(f"backlog of {hours:g} h: {polls} polls ({polls * registers} readings) drained in {drain:.0f} s "
              f"({polls * registers / drain:.0f} readings/s) in {messages} messages, while polling {devices * registers} channels at 1 Hz")
        print(f"  live readings meanwhile  {len(lat)} polls, latency p50/p99 {pct(lat, 50):.0f} / {pct(lat, 99):.0f} ms")
        print(f"  agent CPU                {cpu:.1f} s ({cpu * 1e6 / (polls * registers):.2f} us per backlog reading)")
        print(f"  agent peak RSS           {proc_status(proc.pid, 'VmHWM') / 1024:.1f} MiB")
        counter.stop()
    finally:
        for p in reversed(children):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agent", default=os.path.join(ROOT, ".build-release/dist/coop-edge"))
    ap.add_argument("--load", choices=["fast", "field", "wide", "both"], default="both")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--down", type=int, default=30)
    ap.add_argument("--detect", action="store_true")
    ap.add_argument("--backlog", type=float, metavar="HOURS")
    ap.add_argument("--soak", type=int, default=0, metavar="MINUTES",
                    help="after the measured window, watch RSS, fds and threads once a minute")
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build/release/coop-edge-bench"))
    a = ap.parse_args()
    if not os.access(a.agent, os.X_OK):
        sys.exit(f"footprint: no agent at {a.agent} (run `make release` first)")
    size = os.path.getsize(a.agent)
    print(f"agent {a.agent}: {size / 1e6:.1f} MB stripped")
    workdir = os.path.join(ROOT, ".bench-footprint")
    os.makedirs(workdir, exist_ok=True)
    if a.backlog:
        run_backlog(a.agent, a.bench, a.backlog, workdir)
        return
    for name in (["fast", "field"] if a.load == "both" else [a.load]):
        run_load(name, a.agent, a.seconds, a.down, a.detect, workdir, a.soak)


if __name__ == "__main__":
    main()
