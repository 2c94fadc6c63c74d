"""Everything the benchmark runs, built or installed from the repository."""

import fcntl
import json
import os
import subprocess
import sys

from .procs import BenchError
from .report import log

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MUSL = "x86_64-unknown-linux-musl"
VENV = os.path.join(ROOT, "target", "interop-venv")  # shared with the interop tests
SUPERVISOR = "4.3.0"


def cargo_build(manifest, *args, name=None):
    """Build a release binary; return the executable's path as cargo reports
    it (so CARGO_TARGET_DIR is honoured): the one called `name`, else the
    last one built."""
    # From the package's directory: cargo reads .cargo/config.toml from the
    # directory it runs in (the musl build's flags are there, see build.rs).
    env = dict(os.environ)
    if env.get("CARGO_TARGET_DIR"):
        env["CARGO_TARGET_DIR"] = os.path.abspath(env["CARGO_TARGET_DIR"])
    out = subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", manifest,
         "--message-format=json-render-diagnostics", *args],
        stdout=subprocess.PIPE, text=True, timeout=1800, cwd=os.path.dirname(manifest), env=env)
    if out.returncode != 0:
        raise BenchError(f"cargo build failed for {manifest}")
    executables = [json.loads(line).get("executable") for line in out.stdout.splitlines()]
    executables = [e for e in executables if e]
    if name is not None:
        executables = [e for e in executables if os.path.basename(e) == name]
    if not executables:
        raise BenchError(f"cargo built no executable {name or ''} for {manifest}")
    return executables[-1]


def supervisord():
    """Our static release binary."""
    installed = subprocess.run(["rustup", "target", "list", "--installed"],
                               capture_output=True, text=True, timeout=120).stdout.split()
    if MUSL not in installed:
        log(f"adding the {MUSL} target")
        subprocess.run(["rustup", "target", "add", MUSL], check=True, timeout=600)
    log(f"building supervisord (release, {MUSL})")
    return cargo_build(os.path.join(ROOT, "Cargo.toml"), "--target", MUSL, "--bin", "supervisord")


def rpcload():
    """The load generator, and beside it `spawnload` (the spawn baseline)."""
    log("building bench/rpcload")
    return cargo_build(os.path.join(ROOT, "bench", "rpcload", "Cargo.toml"), name="rpcload")


def python_supervisor():
    """The virtualenv with Python Supervisor 4.3.0, made on first use under
    the same lock the interop tests take."""
    def installed():
        python = os.path.join(VENV, "bin", "python")
        if not os.path.exists(python):
            return False
        probe = subprocess.run(
            [python, "-c", "import importlib.metadata as m; print(m.version('supervisor'))"],
            capture_output=True, text=True, timeout=60)
        return probe.stdout.strip() == SUPERVISOR

    if not installed():
        os.makedirs(os.path.dirname(VENV), exist_ok=True)
        with open(os.path.join(ROOT, "target", "interop-venv.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not installed():
                log(f"installing supervisor=={SUPERVISOR} into target/interop-venv")
                if not os.path.exists(os.path.join(VENV, "bin", "pip")):
                    subprocess.run([sys.executable, "-m", "venv", VENV], check=True, timeout=300)
                subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "--quiet",
                                f"supervisor=={SUPERVISOR}"], check=True, timeout=600)
    return VENV
