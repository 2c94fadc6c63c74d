"""Processes the benchmark starts, and what /proc says about them.

Every process is started through `spawn`, so `cleanup` can end whatever is
still running at exit, by pid, together with its descendants (a daemon
killed with SIGKILL would otherwise leave its programs behind).
"""

import os
import select
import signal
import subprocess
import threading
import time

_started = []


class BenchError(Exception):
    pass


def spawn(argv, **kwargs):
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    proc = subprocess.Popen(argv, **kwargs)
    _started.append(proc)
    return proc


def wait_until(test, limit, what, interval=0.005):
    """Poll `test` until it returns something true; fail after `limit` s."""
    deadline = time.monotonic() + limit
    while True:
        value = test()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {limit} s waiting for {what}")
        time.sleep(interval)


def run_timed(argv, limit, capture=False):
    """Run `argv` to its end: (seconds from its start to its exit, stdout,
    stderr), the output only if `capture`. Timed with blocking waits:
    `subprocess.run` with a timeout polls for the exit, sleeping 1, 2, 4…
    ms in between, which rounded a 2 ms command up to 3.5 ms. A command
    still running after `limit` s is killed and fails the benchmark."""
    pipe = subprocess.PIPE if capture else subprocess.DEVNULL
    procs = []
    watchdog = threading.Timer(limit, lambda: [p.kill() for p in procs])
    watchdog.start()
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe, text=True)
        procs.append(proc)
        out, err = proc.communicate()
        elapsed = time.perf_counter() - start
    finally:
        watchdog.cancel()
    if proc.returncode == -signal.SIGKILL:
        raise BenchError(f"{' '.join(argv)} took over {limit} s")
    return elapsed, out or "", err or ""


def wait_exit(proc, limit):
    """Wait for `proc` to exit, at most `limit` s; True if it did. A pidfd
    wakes us the moment it exits (Popen.wait with a timeout polls, up to
    50 ms late)."""
    if proc.poll() is not None:
        return True
    try:
        fd = os.pidfd_open(proc.pid)
    except ProcessLookupError:
        proc.wait()
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(limit * 1000):
            return False
    finally:
        os.close(fd)
    proc.wait()
    return True


def children(pid):
    """Pids of the children of every thread of `pid` (zombies included)."""
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(p) for p in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def kill_tree(proc):
    """SIGKILL a process we started and everything below it."""
    pids = descendants(proc.pid)
    if proc.poll() is None:
        proc.kill()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def cleanup():
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            kill_tree(proc)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise BenchError(f"no VmRSS for pid {pid}")


def context_switches(pid):
    """Voluntary + involuntary, summed over every thread."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def cpu_seconds(pid):
    """CPU time of every thread: the scheduler's count in nanoseconds where
    the kernel shows it (utime+stime in /proc/PID/stat only counts 10 ms
    clock ticks, too coarse for a daemon that is idle), else utime+stime."""
    total = 0.0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/sched") as f:
                for line in f:
                    if line.startswith("se.sum_exec_runtime"):
                        total += float(line.split(":")[1]) / 1000  # milliseconds
        return total
    except FileNotFoundError:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # Fields 14 and 15 of proc(5); the split starts at field 3.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
