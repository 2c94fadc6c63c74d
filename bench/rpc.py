#!/usr/bin/env python3
"""XML-RPC throughput: `supervisor.getAllProcessInfo` requests/s with 10
programs, over the unix socket with 1 and 8 concurrent keep-alive clients,
and over TCP, for our supervisord and Python Supervisor 4.3.0 in the same run.

Usage: bench/rpc.py [path/to/supervisord]   (default: the release build)
Needs target/interop-venv (made by tests/run.sh) for Python Supervisor.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/supervisord")
PYTHON = os.path.join(ROOT, "target/interop-venv/bin/supervisord")
LOAD = os.path.join(ROOT, "bench/rpcload/target/release/rpcload")
SECONDS = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, tmp, port):
    conf = os.path.join(tmp, "supervisord.conf")
    programs = "".join(f"[program:p{i}]\ncommand=sleep 100000\nstartsecs=0\n" for i in range(10))
    with open(conf, "w") as f:
        f.write(
            f"[supervisord]\nlogfile={tmp}/supervisord.log\npidfile={tmp}/sd.pid\n"
            f"childlogdir={tmp}\nsilent=true\n"
            f"[unix_http_server]\nfile={tmp}/s.sock\n"
            f"[inet_http_server]\nport=127.0.0.1:{port}\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            + programs)
    proc = subprocess.Popen([binary, "-n", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not os.path.exists(f"{tmp}/s.sock"):
        if time.monotonic() > deadline:
            raise SystemExit(f"{binary} did not open its socket")
        time.sleep(0.05)
    time.sleep(1.5)  # let every program reach RUNNING
    return proc


def load(args):
    out = subprocess.run([LOAD, *args, "--seconds", str(SECONDS)], check=True,
                         capture_output=True, text=True, timeout=SECONDS + 60)
    return float(out.stdout.strip())


def measure(binary):
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start(binary, tmp, port)
        try:
            return {
                "unix, 1 client": load(["--unix", f"{tmp}/s.sock", "--clients", "1"]),
                "unix, 8 clients": load(["--unix", f"{tmp}/s.sock", "--clients", "8"]),
                "tcp, 1 client": load(["--tcp", f"127.0.0.1:{port}", "--clients", "1"]),
            }
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path",
                    os.path.join(ROOT, "bench/rpcload/Cargo.toml")], check=True)
    for binary in (OURS, PYTHON):
        if not os.path.exists(binary):
            raise SystemExit(f"{binary} not found (cargo build --release; tests/run.sh)")
    ours, python = measure(OURS), measure(PYTHON)
    print(f"getAllProcessInfo requests/s, 10 programs, {SECONDS} s each")
    print(f"  {'':18}{'ours':>10}{'python':>10}{'ratio':>9}")
    for name in ours:
        print(f"  {name:18}{ours[name]:10.0f}{python[name]:10.0f}{ours[name] / python[name]:8.1f}x")


if __name__ == "__main__":
    main()
