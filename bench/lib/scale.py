"""The scale rows: how each cost grows with the number of programs.

Every size runs twice per implementation: `sleep` programs with one
`[program:x]` section each, and one program with `numprocs`. Each process
costs the daemon two descriptors (its stdin and stdout pipes: stderr goes to
stdout and the log is NONE, so no log file is open per process); the largest
size is 10,000, or less when the descriptor limit cannot hold that many
(the row says so). One run per cell: these are minutes of work at the
largest size, and the growth between sizes is the point.
"""

import os
import re
import resource
import socket
import statistics
import time

from .daemon import Daemon, program
from .procs import BenchError, context_switches, run_timed
from .report import Row, log

LARGEST = 10000
# Python steps beyond this at 1,000 processes would take over a minute at
# the largest size (they grow at least linearly): its largest row is skipped.
PYTHON_SLOW_STEP = 6.0
# Even below that, one of Python's steps at 9,000 processes took over a
# minute (getAllProcessInfo, 2026-12-04), which alone would take the run past
# its ten minutes: its largest size runs only with --python-largest.
OPTIONS = {"startsecs": 0, "redirect_stderr": "true", "stdout_logfile": "NONE"}


def largest():
    """10,000, or the largest thousand the descriptor limit allows (two per
    process, a margin for the daemon's own)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        return LARGEST
    return max(1000, min(LARGEST, (hard - 500) // 2 // 1000 * 1000))


def programs(n, shape, changed=False):
    command = "sleep 100000"
    if shape == "numprocs":
        return program("p", command, numprocs=n, process_name="%(program_name)s_%(process_num)d",
                       **OPTIONS)
    # `update` after changing one program: p0 gets a different command.
    return "".join(program(f"p{i}", command + ("1" if changed and i == 0 else ""), **OPTIONS)
                   for i in range(n))


def rpc_latency(sock):
    """Seconds for one getAllProcessInfo over the unix socket, answer read
    in full (a fresh connection, as a monitoring tool would make)."""
    body = (b"<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo"
            b"</methodName>\n<params>\n</params>\n</methodCall>\n")
    request = (b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(120)
        s.connect(sock)
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                raise BenchError("getAllProcessInfo: connection closed in the head")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        received = len(rest)
        while received < length:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise BenchError("getAllProcessInfo: connection closed in the body")
            received += len(chunk)
    return time.perf_counter() - start


def uncached_latency(sock):
    """rpc_latency at the start of a wall-clock second: our daemon reuses an
    answer within the second it was made (`now` changes with the second),
    and the figure wanted here is the cost of making one."""
    time.sleep(1 - time.time() % 1 + 0.01)
    return rpc_latency(sock)


def timed(argv, limit=300):
    """(wall seconds, stdout + stderr) of a client command."""
    elapsed, out, err = run_timed(argv, limit, capture=True)
    return elapsed, out + err


def one(ctx, impl, n, shape):
    """Every scale figure of one daemon with `n` processes."""
    log(f"  scale: {impl.name}, {n:,} {shape}")
    idle = min(ctx.settings.idle, 2)
    r = {}
    with Daemon(impl, ctx.workdir(), programs(n, shape)) as d:
        d.start()
        r["running"] = d.wait_running(n, limit=300)
        time.sleep(0.5)  # let the last starts settle
        r["rss"] = d.rss()
        switches = context_switches(d.pid)
        time.sleep(idle)
        r["switches"] = context_switches(d.pid) - switches
        r["rpc"] = statistics.median(uncached_latency(d.sock) for _ in range(3))
        ctl = [*impl.ctl, "-c", d.conf]
        r["status"], out = timed([*ctl, "status"])
        if out.count("RUNNING") != n:
            raise BenchError(f"{impl.name} status with {n}: {out[-300:]}")
        if shape == "programs":
            with open(d.conf) as f:
                text = f.read()
            with open(d.conf, "w") as f:
                f.write(text.replace(programs(n, shape), programs(n, shape, changed=True)))
            r["update"], out = timed([*ctl, "update"])
            if "p0: updated process group" not in out:
                raise BenchError(f"{impl.name} update with {n}: {out}")
            d.wait_lines("success: p0 ", 2, 120)
        r["stop"] = d.stop(limit=300)
    return r


FIGURES = [
    ("running", "time until all RUNNING", "seconds"),
    ("status", "`supervisorctl status` wall time", "seconds"),
    ("rpc", "getAllProcessInfo latency (unix socket, not cached)", "seconds"),
    ("rss", "RSS", "bytes"),
    ("switches", "context switches in 2 s idle", "count"),
    ("stop", "SIGTERM to exit", "seconds"),
    ("update", "`supervisorctl update` after changing one program", "seconds"),
]


def scale_group(ctx):
    top = largest()
    sizes = [100, 1000, top]
    results = {}  # (impl, n, shape) -> figures
    python_slow = False
    for n in sizes:
        for shape in ("programs", "numprocs"):
            for impl in ctx.impls:
                if impl.name == "python" and n == 100:
                    continue  # only our per-program cost uses the 100 rows
                if impl.name == "python" and n == top and not ctx.settings.python_largest:
                    log(f"  scale: python, {n:,} {shape}: skipped (--python-largest runs it)")
                    continue
                if impl.name == "python" and n == top and python_slow:
                    log(f"  scale: python, {n:,} {shape}: skipped (a step took over "
                        f"{PYTHON_SLOW_STEP:g} s at 1,000)")
                    continue
                r = one(ctx, impl, n, shape)
                results[(impl.name, n, shape)] = r
                if impl.name == "python" and n == 1000:
                    python_slow |= max(v for k, v in r.items() if k not in ("rss", "switches")) > PYTHON_SLOW_STEP
    rows = []
    for n in sizes[1:]:
        for shape in ("programs", "numprocs"):
            what = f"{n:,} `sleep`s, " + ("one [program] each" if shape == "programs"
                                          else "one program with numprocs")
            if n == top and top < LARGEST:
                what += f" (largest that nofile={resource.getrlimit(resource.RLIMIT_NOFILE)[1]} allows)"
            for key, label, unit in FIGURES:
                ours = results.get(("ours", n, shape), {}).get(key)
                if ours is None:
                    continue
                python = results.get(("python", n, shape), {}).get(key)
                better = "lower"
                rows.append(Row(f"{label}, {what}", ours, python, unit, better))
    # Our cost per process at each size: flat means linear growth.
    for key, label in (("running", "launch"), ("stop", "SIGTERM to exit"),
                       ("status", "`supervisorctl status`"), ("rpc", "getAllProcessInfo")):
        for n in sizes:
            r = results.get(("ours", n, "programs"))
            if r:
                rows.append(Row(f"{label} per program, {n:,} programs (ours)", r[key] / n, None, "seconds"))
    small, big = results.get(("ours", 100, "programs")), results.get(("ours", top, "programs"))
    if small and big:
        rows.append(Row(f"RSS per program from 100 to {top:,} programs (ours)",
                        (big["rss"] - small["rss"]) / (top - 100), None, "KiB"))
    return rows
