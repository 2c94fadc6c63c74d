"""The measurements, in groups that share daemons. Each group returns table
rows; every number is a median over repeats in which ours and Python take
turns going first, so slow phases of a noisy machine hit both alike."""

import os
import signal
import statistics
import subprocess
import time

from .daemon import Daemon, log_time, program, sleepers
from .procs import (BenchError, children, context_switches, cpu_seconds, run_timed, spawn,
                    wait_exit, wait_until)
from . import scale
from .report import Row, log, show

MB = 1024 * 1024


class Context:
    def __init__(self, ours, python, settings, workroot, binary, rpcload):
        self.impls = [ours, python]
        self.settings = settings
        self.workroot = workroot
        self.binary = binary
        self.rpcload = rpcload
        self._dirs = 0

    def workdir(self):
        """A fresh directory for one daemon's config, logs and socket. Its path
        is about as long as /var/log/supervisor: RPC answers carry the log
        paths, and the size of an answer changes how fast it is served."""
        self._dirs += 1
        return os.path.join(self.workroot, f"{self._dirs:02d}")

    def turns(self):
        """(repeat, impl) pairs, alternating which implementation goes first."""
        for r in range(self.settings.repeats):
            for impl in self.impls if r % 2 == 0 else self.impls[::-1]:
                yield r, impl


def medians(samples):
    return {impl: statistics.median(values) for impl, values in samples.items()}


def row(label, samples, kind, better="lower"):
    m = medians(samples)
    return Row(label, m.get("ours"), m.get("python"), kind, better)


def collect(ctx, measure):
    """Run `measure(impl)` for every turn; per implementation, the list of results."""
    samples = {impl.name: [] for impl in ctx.impls}
    for _, impl in ctx.turns():
        samples[impl.name].append(measure(impl))
    return samples


def pick(samples, key):
    return {impl: [result[key] for result in results] for impl, results in samples.items()}


# 1, 2, 3, 9a: memory, idle cost, start and stop with 1, 10 and 100 `sleep` programs.

def lifecycle(ctx, impl, n, idle):
    log_progress(f"lifecycle: {impl.name}, {n} programs")
    with Daemon(impl, ctx.workdir(), sleepers(n)) as d:
        d.start()
        result = {"running": d.wait_running(n)}
        time.sleep(1)  # let both settle after the last start
        result["rss"] = d.rss()
        if idle:
            switches, cpu = context_switches(d.pid), cpu_seconds(d.pid)
            time.sleep(ctx.settings.idle)
            result["switches"] = context_switches(d.pid) - switches
            result["cpu"] = cpu_seconds(d.pid) - cpu
        result["stop"] = d.stop()
        return result


def plain_spawn(ctx, n=100):
    """Seconds for a plain program (bench/rpcload's `spawnload`) to start
    `n` `sleep`s with pipes, timed like a daemon's launch: from just before
    it is started until the last one has exec'd."""
    spawnload = os.path.join(os.path.dirname(ctx.rpcload), "spawnload")
    start = time.time()
    out = subprocess.run([spawnload, str(n)], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise BenchError(f"spawnload failed: {out.stderr.strip()}")
    return int(out.stdout) / 1e9 - start


def daemon_group(ctx):
    runs = {n: collect(ctx, lambda impl, n=n: lifecycle(ctx, impl, n, n == 10)) for n in (1, 10, 100)}
    idle = ctx.settings.idle
    log_progress("spawning 100 `sleep`s from a plain program")
    plain = statistics.median(plain_spawn(ctx) for _ in range(max(3, ctx.settings.repeats)))
    return [
        row("RSS of supervisord, 1 program", pick(runs[1], "rss"), "bytes"),
        row("RSS of supervisord, 10 programs", pick(runs[10], "rss"), "bytes"),
        row("RSS of supervisord, 100 programs", pick(runs[100], "rss"), "bytes"),
        row(f"context switches in {idle:g} s idle, 10 programs (all threads)",
            pick(runs[10], "switches"), "count"),
        row(f"CPU time in {idle:g} s idle, 10 programs", pick(runs[10], "cpu"), "seconds"),
        row("launch until 100 programs RUNNING (startsecs=0) (a plain program spawning "
            f"100 `sleep`s: {show(plain, 'seconds')})", pick(runs[100], "running"), "seconds"),
        row("SIGTERM to exit, 100 programs", pick(runs[100], "stop"), "seconds"),
    ]


# 9b: programs that ignore SIGTERM must be SIGKILLed after stopwaitsecs.

def stubborn_group(ctx):
    stubborn = "".join(
        program(f"p{i}", "sh -c \"trap '' TERM; exec sleep 100000\"", startsecs=0, stopwaitsecs=2)
        for i in range(10))

    def measure(impl):
        log_progress(f"stubborn: {impl.name}")
        with Daemon(impl, ctx.workdir(), stubborn) as d:
            d.start()
            d.wait_running(10)
            time.sleep(1)  # RUNNING is logged at spawn: give each shell time to set its trap
            return d.stop()

    return [row("SIGTERM to exit, 10 programs that ignore SIGTERM (stopwaitsecs=2)",
                collect(ctx, measure), "seconds")]


# 4: child output through a rotating log, against `cat > file`.

OUTPUT = 200 * MB


def producer(stamp):
    """Records when it starts writing, so daemon startup is not counted."""
    return f"sh -c 'date +%s%N > {stamp}; exec head -c {OUTPUT} /dev/zero'"


def time_to_bytes(files, stamp):
    """Seconds from the producer's first byte until `files` hold all of them."""
    def total():
        size = 0
        for path in files:
            try:
                size += os.path.getsize(path)
            except FileNotFoundError:  # not there yet, or being rotated
                pass
        # A rotation between two stats can count a file twice: only an
        # exact total means done.
        return size == OUTPUT
    wait_until(total, 120, f"{OUTPUT} bytes in {files[0]}", 0.002)
    done = time.time()
    with open(stamp) as f:
        return done - int(f.read()) / 1e9


def output_group(ctx):
    def through_cat():
        tmp = ctx.workdir()
        os.makedirs(tmp)
        proc = spawn(["sh", "-c", f"{producer(tmp + '/t0')} | cat > {tmp}/out"])
        wait_until(lambda: os.path.exists(f"{tmp}/t0"), 30, "the producer")
        elapsed = time_to_bytes([f"{tmp}/out"], f"{tmp}/t0")
        wait_exit(proc, 30)
        os.remove(f"{tmp}/out")
        return elapsed

    def through(impl):
        log_progress(f"output: {impl.name}")
        tmp = ctx.workdir()
        stamp = f"{tmp}/t0"
        # `%%` is a literal `%` in config values.
        command = producer(stamp).replace("%", "%%")
        programs = program("producer", command, startsecs=0, autorestart="false",
                           stdout_logfile=f"{tmp}/out.log", stdout_logfile_maxbytes="50MB",
                           stdout_logfile_backups=10)
        with Daemon(impl, tmp, programs) as d:
            d.start()
            wait_until(lambda: os.path.exists(stamp), 30, "the producer")
            logs = [f"{tmp}/out.log"] + [f"{tmp}/out.log.{i}" for i in range(1, 11)]
            elapsed = time_to_bytes(logs, stamp)
            d.stop()
        for path in logs:
            if os.path.exists(path):
                os.remove(path)
        return elapsed

    cat, samples = [], {impl.name: [] for impl in ctx.impls}
    for _ in range(ctx.settings.output_repeats):
        log_progress("output: cat")
        cat.append(through_cat())
        for impl in ctx.impls:
            samples[impl.name].append(through(impl))
    rate = lambda times: OUTPUT / MB / statistics.median(times)
    return [Row(f"{OUTPUT // MB} MiB of output into a log rotated at 50MB "
                f"(`cat > file`: {rate(cat):,.0f} MiB/s)",
                rate(samples["ours"]), rate(samples["python"]), "MiB/s", "higher")]


# 5: getAllProcessInfo over the unix socket and TCP.

def rpc_group(ctx):
    loads = [("unix socket, 1 client", "unix", 1), ("unix socket, 8 clients", "unix", 8),
             ("TCP, 1 client", "tcp", 1)]
    window = ctx.settings.rpc_window
    samples = {label: {} for label, _, _ in loads}
    for impl in ctx.impls:
        log_progress(f"rpc: {impl.name}")
        with Daemon(impl, ctx.workdir(), sleepers(10), tcp=True) as d:
            d.start()
            d.wait_running(10)
            for label, kind, clients in loads:
                target = ["--unix", d.sock] if kind == "unix" else ["--tcp", f"127.0.0.1:{d.port}"]
                samples[label][impl.name] = [
                    rpcload(ctx, target, clients, window) for _ in range(ctx.settings.repeats)]
            d.stop()
    return [row(f"getAllProcessInfo, 10 programs, {label}", samples[label], "req/s", "higher")
            for label, _, _ in loads]


def rpcload(ctx, target, clients, seconds):
    out = subprocess.run([ctx.rpcload, *target, "--clients", str(clients), "--seconds", str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise BenchError(f"rpcload failed: {out.stderr.strip()}")
    return float(out.stdout)


# 6: `supervisorctl status`, each client against its own daemon.

def ctl_group(ctx):
    samples = {}
    for impl in ctx.impls:
        log_progress(f"ctl: {impl.name}")
        with Daemon(impl, ctx.workdir(), sleepers(10)) as d:
            d.start()
            d.wait_running(10)
            argv = [*impl.ctl, "-c", d.conf, "status"]
            check = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            if check.stdout.count("RUNNING") != 10:
                raise BenchError(f"{impl.name} supervisorctl status: {check.stdout}{check.stderr}")
            if impl.name == "ours":
                true_times = [run_timed(["/bin/true"], 60)[0] for _ in range(ctx.settings.ctl_runs)]
            times = [run_timed(argv, 60)[0] for _ in range(ctx.settings.ctl_runs)]
            samples[impl.name] = sorted(times)
            d.stop()
    p99 = lambda times: times[max(0, -(-len(times) * 99 // 100) - 1)]
    runs = ctx.settings.ctl_runs
    return [
        Row(f"`supervisorctl status`, 10 programs, p50 of {runs} runs "
            f"(`/bin/true`: {show(statistics.median(true_times), 'seconds')})",
            statistics.median(samples["ours"]), statistics.median(samples["python"]), "seconds"),
        Row(f"`supervisorctl status`, 10 programs, p99 of {runs} runs",
            p99(samples["ours"]), p99(samples["python"]), "seconds"),
    ]


# 7: exit to respawn.

RESPAWNS = 1000


def respawn_group(ctx):
    window = ctx.settings.respawn_window

    def measure(impl):
        log_progress(f"respawn: {impl.name}")
        programs = program("t", "true", startsecs=0, autorestart="true")
        with Daemon(impl, ctx.workdir(), programs) as d:
            d.start()
            d.wait_lines("spawned: 't'", 1)
            deadline = time.monotonic() + window
            while len(d.lines("spawned: 't'")) <= RESPAWNS and time.monotonic() < deadline:
                time.sleep(0.01)
            stamps = [log_time(line) for line in d.lines("spawned: 't'")]
            d.stop()
        if len(stamps) < 2:
            raise BenchError(f"{impl.name}: only {len(stamps)} spawns in {window} s")
        return (stamps[-1] - stamps[0]) / (len(stamps) - 1)

    return [row("respawn of `true` (autorestart=true, startsecs=0), spawn to spawn",
                collect(ctx, measure), "seconds")]


# 8: reaping orphans as PID 1.

ORPHANS = 1000


def can_unshare():
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                              capture_output=True, timeout=30).returncode == 0
    except FileNotFoundError:
        return False


def orphans_group(ctx):
    label = f"{ORPHANS} orphans reaped as PID 1 (from their release until none is left)"
    if not can_unshare():
        log_progress("orphans: skipped (`unshare --pid --fork --mount-proc` does not work here)")
        return [Row(label + " (skipped: needs unshare)", None, None, "seconds")]

    def measure(impl):
        log_progress(f"orphans: {impl.name}")
        tmp = ctx.workdir()
        fifo = f"{tmp}/release"
        # Each orphan is a subshell blocked reading one line from the fifo;
        # its parent exits at once, so the daemon (PID 1) inherits it.
        spawner = (f"sh -c 'i=0; while [ $i -lt {ORPHANS} ]; do "
                   f"(read x < {fifo}) >/dev/null 2>&1 & i=$((i+1)); done'")
        programs = program("orphans", spawner, startsecs=0, autorestart="false")
        with Daemon(impl, tmp, programs) as d:
            os.mkfifo(fifo)
            d.start(wrap=["unshare", "--pid", "--fork", "--mount-proc"])
            # The daemon is unshare's child; its host pid is what /proc here shows.
            pid = wait_until(lambda: children(d.pid), 30, "supervisord in the namespace")[0]
            d.wait_lines("exited: orphans", 1, 120)
            wait_until(lambda: len(children(pid)) == ORPHANS, 60, f"{ORPHANS} orphans")
            # Read-write, so opening never waits for a reader; one newline per orphan.
            fd = os.open(fifo, os.O_RDWR)
            try:
                start = time.monotonic()
                os.write(fd, b"\n" * ORPHANS)
                wait_until(lambda: not children(pid), 120, "every orphan reaped", 0.001)
                elapsed = time.monotonic() - start
            finally:
                os.close(fd)
            os.kill(pid, signal.SIGTERM)
            if not wait_exit(d.proc, 60):
                raise BenchError(f"{impl.name} supervisord as PID 1 did not exit after SIGTERM")
        return elapsed

    return [row(label, collect(ctx, measure), "seconds")]


# 10: what one installs. Python's side has no one number: the interpreter
# comes from elsewhere, and the shared virtualenv holds other test tools.

def size_group(ctx):
    return [Row("size of the static binary (stripped)", os.path.getsize(ctx.binary), None, "bytes")]


GROUPS = {
    "daemon": daemon_group,
    "stubborn": stubborn_group,
    "output": output_group,
    "rpc": rpc_group,
    "ctl": ctl_group,
    "respawn": respawn_group,
    "orphans": orphans_group,
    "size": size_group,
    "scale": scale.scale_group,
}


def log_progress(message):
    log(f"  {message}")
