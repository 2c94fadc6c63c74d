#!/usr/bin/env python3
"""Daemon measurements: idle wakeups, exit-to-respawn latency, SIGTERM-to-exit.

Usage: bench/daemon.py [path/to/supervisord]   (default: the release build)

Every supervisord it starts runs in a temporary directory and is stopped by
its pid; every wait is bounded.
"""

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/supervisord")


def start(tmp, programs, loglevel="info"):
    conf = os.path.join(tmp, "supervisord.conf")
    with open(conf, "w") as f:
        f.write(
            f"[supervisord]\nlogfile={tmp}/supervisord.log\npidfile={tmp}/sd.pid\n"
            f"childlogdir={tmp}\nloglevel={loglevel}\nsilent=true\n{programs}"
        )
    proc = subprocess.Popen([BIN, "-n", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return proc, os.path.join(tmp, "supervisord.log")


def wait_log(log, test, limit=30.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            text = open(log).read()
        except FileNotFoundError:
            text = ""
        if test(text):
            return text
        time.sleep(0.01)
    raise SystemExit(f"timed out; log:\n{text}")


def stop(proc, limit=30.0):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=limit)


def context_switches(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def idle_wakeups():
    with tempfile.TemporaryDirectory() as tmp:
        programs = "".join(f"[program:p{i}]\ncommand=sleep 100000\n" for i in range(10))
        proc, log = start(tmp, programs)
        try:
            wait_log(log, lambda t: t.count("success: ") == 10)
            time.sleep(0.5)  # let the last log write settle
            before = context_switches(proc.pid)
            time.sleep(10)
            after = context_switches(proc.pid)
        finally:
            stop(proc)
    return after - before


def respawn_latency():
    """`true` with startsecs=0 and autorestart=true respawns as fast as it can."""
    with tempfile.TemporaryDirectory() as tmp:
        proc, log = start(tmp, "[program:t]\ncommand=true\nstartsecs=0\nautorestart=true\n")
        try:
            text = wait_log(log, lambda t: t.count("spawned: 't'") >= 1)
            first = time.monotonic()
            text = wait_log(log, lambda t: t.count("spawned: 't'") >= 501)
            elapsed = time.monotonic() - first
        finally:
            stop(proc)
    spawns = text.count("spawned: 't'") - 1
    # Log stamps have millisecond resolution: exit line to the next spawn line.
    gaps = []
    exited_at = None
    for line in text.splitlines():
        stamp = line[11:23]
        ms = ((int(stamp[0:2]) * 60 + int(stamp[3:5])) * 60 + int(stamp[6:8])) * 1000 + int(stamp[9:12])
        if "exited: t " in line:
            exited_at = ms
        elif "spawned: 't'" in line and exited_at is not None:
            gaps.append(ms - exited_at)
            exited_at = None
    return elapsed / spawns * 1000, statistics.median(gaps), max(gaps)


def sigterm_to_exit(n=100):
    with tempfile.TemporaryDirectory() as tmp:
        programs = "".join(
            f"[program:p{i}]\ncommand=sleep 100000\nstartsecs=0\n" for i in range(n))
        proc, log = start(tmp, programs)
        wait_log(log, lambda t: t.count("success: ") == n)
        t0 = time.monotonic()
        stop(proc)
        return (time.monotonic() - t0) * 1000


def main():
    if not os.path.exists(BIN):
        raise SystemExit(f"{BIN} not found: build it with `cargo build --release`")
    print(f"binary: {BIN}")
    print(f"idle context switches, 10 programs, 10 s (all threads): {idle_wakeups()}")
    cycle, median_gap, max_gap = respawn_latency()
    print(f"respawn cycle of `true` (spawn to next spawn), mean: {cycle:.2f} ms")
    print(f"exit-to-respawn from the log, median / max: {median_gap} / {max_gap} ms")
    runs = [sigterm_to_exit() for _ in range(5)]
    print(f"SIGTERM to exit with 100 programs, median of 5: {statistics.median(runs):.1f} ms")


if __name__ == "__main__":
    main()
