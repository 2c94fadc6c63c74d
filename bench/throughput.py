#!/usr/bin/env python3
"""Child output throughput: 200 MB through supervisord's log rotation,
against `cat > file` in the same run.

Usage: bench/throughput.py [path/to/supervisord]   (default: the release build)

Both runs use the same producer and are timed the same way: the producer's
shell records the time just before it starts writing (so supervisord's own
startup is not counted; bench/daemon.py measures that side), and the end is
when the files hold every byte, seen by the same cheap polling loop.
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
SIZE = 200 * 1024 * 1024
RUNS = 5


def producer(stamp):
    return f"sh -c 'date +%s%N > {stamp}; exec head -c {SIZE} /dev/zero'"


def started_at(stamp):
    with open(stamp) as f:
        return int(f.read()) / 1e9


def size_of(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:  # not there yet, or being rotated
        return 0


def wait_for_bytes(files, stamp):
    """Poll (a few stats every 2 ms) until `files` hold SIZE bytes."""
    deadline = time.monotonic() + 120
    while True:
        total = sum(size_of(f) for f in files)
        # A rotation between two stats can count a file twice: only an
        # exact total means done.
        if total == SIZE:
            return time.time() - started_at(stamp), total
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.002)


def cat_to_file():
    with tempfile.TemporaryDirectory() as tmp:
        stamp = f"{tmp}/t0"
        proc = subprocess.Popen(f"{producer(stamp)} | cat > {tmp}/out", shell=True)
        try:
            elapsed, total = wait_for_bytes([f"{tmp}/out"], stamp)
        finally:
            proc.wait(timeout=30)
        assert total == SIZE
        return elapsed


def through_supervisord():
    with tempfile.TemporaryDirectory() as tmp:
        stamp = f"{tmp}/t0"
        conf = os.path.join(tmp, "supervisord.conf")
        with open(conf, "w") as f:
            # 50MB x 10 backups (the defaults) hold all 200 MB, so every byte
            # can be counted at the end, after three rotations. `%%` is a
            # literal `%` in config values.
            f.write(
                f"[supervisord]\nlogfile={tmp}/supervisord.log\npidfile={tmp}/sd.pid\n"
                f"childlogdir={tmp}\nsilent=true\n"
                f"[program:producer]\ncommand={producer(stamp).replace('%', '%%')}\n"
                f"startsecs=0\nautorestart=false\nstdout_logfile={tmp}/out.log\n"
            )
        proc = subprocess.Popen([BIN, "-n", "-c", conf], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            logs = [f"{tmp}/out.log"] + [f"{tmp}/out.log.{i}" for i in range(1, 11)]
            deadline = time.monotonic() + 30
            while not os.path.exists(stamp):
                if time.monotonic() > deadline:
                    raise SystemExit("the producer never started")
                time.sleep(0.001)
            elapsed, total = wait_for_bytes(logs, stamp)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        assert total == SIZE
        return elapsed


def main():
    if not os.path.exists(BIN):
        raise SystemExit(f"{BIN} not found: build it with `cargo build --release`")
    cat_times, our_times = [], []
    for _ in range(RUNS):
        cat_times.append(cat_to_file())
        our_times.append(through_supervisord())
    cat_s, our_s = statistics.median(cat_times), statistics.median(our_times)
    mb = SIZE / 1024 / 1024
    print(f"200 MB, median of {RUNS} runs")
    print(f"  cat > file:                  {cat_s:.3f} s  ({mb / cat_s:.0f} MB/s)")
    print(f"  supervisord with rotation:   {our_s:.3f} s  ({mb / our_s:.0f} MB/s)")
    print(f"  ratio (cat time / ours):     {cat_s / our_s:.2f}x")


if __name__ == "__main__":
    main()
