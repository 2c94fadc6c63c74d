#!/usr/bin/env python3
"""Our supervisord against Python Supervisor 4.3.0, side by side, in one run.

Builds the static release binary and the load generator, installs Python
Supervisor into target/interop-venv if needed, runs both daemons on the same
generated configurations and prints one table (medians over repeats).

    python3 bench/run.py [--quick] [--only GROUP[,GROUP…]] [--markdown]

Groups: daemon (RSS with 1/10/100 programs, idle cost, start and stop with
100), stubborn (SIGKILL after stopwaitsecs), output (log throughput), rpc
(getAllProcessInfo/s), ctl (supervisorctl status), respawn, orphans (reaping
as PID 1; needs `unshare`), size, scale (1,000 and 10,000 programs).
"""

import argparse
import os
import platform
import resource
import signal
import sys
import tempfile
import time
from dataclasses import dataclass

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree

from lib import build, measure, report  # noqa: E402
from lib.daemon import Impl  # noqa: E402
from lib.procs import BenchError, cleanup  # noqa: E402


@dataclass
class Settings:
    repeats: int = 3
    output_repeats: int = 5
    idle: float = 10  # seconds of idleness measured
    rpc_window: float = 2  # seconds per load-generator run
    ctl_runs: int = 100
    respawn_window: float = 5  # Python respawns on its 1 s tick
    python_largest: bool = False  # Python's scale rows at the largest size


QUICK = Settings(repeats=1, output_repeats=1, idle=2, rpc_window=1, ctl_runs=20, respawn_window=3)


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()}-core {platform.machine()}, {cpu}, "
            f"Linux {platform.release()}, Python {platform.python_version()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, short windows (for development)")
    parser.add_argument("--only", help="comma-separated groups: " + ", ".join(measure.GROUPS))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--python-largest", action="store_true",
                        help="also run Python at the largest scale size (minutes per step)")
    args = parser.parse_args()
    groups = args.only.split(",") if args.only else list(measure.GROUPS)
    unknown = [g for g in groups if g not in measure.GROUPS]
    if unknown:
        parser.error(f"unknown group {', '.join(unknown)}; choose from {', '.join(measure.GROUPS)}")
    settings = QUICK if args.quick else Settings()
    settings.python_largest = args.python_largest

    # A SIGTERM to the benchmark ends it through the same cleanup as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # The scale rows hold two descriptors per process in each daemon, which
    # inherits this limit: as high as it may go.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = time.monotonic()
    try:
        binary = build.supervisord()
        rpcload = build.rpcload()
        venv = build.python_supervisor()
        with tempfile.TemporaryDirectory(prefix="sdb-") as workroot:
            ctl = os.path.join(workroot, "supervisorctl")
            os.symlink(binary, ctl)  # the binary picks its role from its name
            ours = Impl("ours", [binary], [ctl])
            python = Impl("python", [f"{venv}/bin/supervisord"], [f"{venv}/bin/supervisorctl"])
            ctx = measure.Context(ours, python, settings, workroot, binary, rpcload)
            rows = []
            for group in groups:
                report.log(f"== {group}")
                rows += measure.GROUPS[group](ctx)
    except BenchError as e:
        report.log(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        cleanup()
    print(f"{time.strftime('%Y-%m-%d')}, {machine()}")
    print(" ".join(["python3", "bench/run.py", *sys.argv[1:]]))
    print()
    print(report.markdown(rows) if args.markdown else report.plain(rows))
    report.log(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
