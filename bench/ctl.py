#!/usr/bin/env python3
"""`supervisorctl status` wall time, median and p99 over 50 runs: our client
against our daemon, and Python's client against Python's daemon, in the same
run (10 programs, unix socket).

Usage: bench/ctl.py [path/to/supervisord]   (default: the release build)
Needs target/interop-venv (made by tests/run.sh) for Python Supervisor.
"""

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/supervisord")
VENV = os.path.join(ROOT, "target/interop-venv/bin")
RUNS = 50


def start(daemon, tmp):
    conf = os.path.join(tmp, "supervisord.conf")
    programs = "".join(f"[program:p{i}]\ncommand=sleep 100000\nstartsecs=0\n" for i in range(10))
    with open(conf, "w") as f:
        f.write(
            f"[supervisord]\nlogfile={tmp}/supervisord.log\npidfile={tmp}/sd.pid\n"
            f"childlogdir={tmp}\nsilent=true\n[unix_http_server]\nfile={tmp}/s.sock\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            f"[supervisorctl]\nserverurl=unix://{tmp}/s.sock\n" + programs)
    proc = subprocess.Popen(daemon + ["-n", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not os.path.exists(f"{tmp}/s.sock"):
        if time.monotonic() > deadline:
            raise SystemExit("the daemon did not open its socket")
        time.sleep(0.05)
    time.sleep(1.5)
    return proc, conf


def timings(client, conf):
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(client + ["-c", conf, "status"], stdout=subprocess.DEVNULL, timeout=30)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def measure(daemon, client):
    with tempfile.TemporaryDirectory() as tmp:
        proc, conf = start(daemon, tmp)
        try:
            return timings(client, conf)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def main():
    ours = measure([OURS], [OURS, "ctl"])
    python = measure([f"{VENV}/supervisord"], [f"{VENV}/supervisorctl"])
    print(f"supervisorctl status, 10 programs, {RUNS} runs (ms)")
    print(f"  ours (client and daemon):    median {ours[0]:.2f}  p99 {ours[1]:.2f}")
    print(f"  python (client and daemon):  median {python[0]:.2f}  p99 {python[1]:.2f}")


if __name__ == "__main__":
    main()
