"""One supervisord, ours or Python's, on a generated configuration.

Both implementations get the very same file; the only difference between
two runs is the command that starts the daemon (and the client).
"""

import datetime
import os
import signal
import socket
import time
from dataclasses import dataclass

from .procs import BenchError, kill_tree, rss_bytes, spawn, wait_exit, wait_until


@dataclass
class Impl:
    name: str
    daemon: list  # argv prefix that starts supervisord
    ctl: list  # argv prefix that starts supervisorctl


def program(name, command, **options):
    lines = [f"[program:{name}]", f"command={command}"]
    lines += [f"{key}={value}" for key, value in options.items()]
    return "\n".join(lines) + "\n"


def sleepers(n, **options):
    return "".join(program(f"p{i}", "sleep 100000", startsecs=0, **options) for i in range(n))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_time(line):
    """The wall-clock time of a main-log line (`2026-11-21 08:02:31,832 …`)."""
    stamp = datetime.datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")
    return stamp.timestamp() + int(line[20:23]) / 1000


class Daemon:
    def __init__(self, impl, workdir, programs, tcp=False):
        os.makedirs(workdir)
        self.impl = impl
        self.dir = workdir
        self.conf = f"{workdir}/supervisord.conf"
        self.log = f"{workdir}/supervisord.log"
        self.sock = f"{workdir}/supervisor.sock"
        self.port = free_port() if tcp else None
        inet = f"[inet_http_server]\nport=127.0.0.1:{self.port}\n\n" if tcp else ""
        with open(self.conf, "w") as f:
            f.write(
                f"[supervisord]\nlogfile={self.log}\npidfile={workdir}/supervisord.pid\n"
                f"childlogdir={workdir}\nsilent=true\n\n"
                f"[unix_http_server]\nfile={self.sock}\n\n{inet}"
                "[rpcinterface:supervisor]\n"
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
                f"[supervisorctl]\nserverurl=unix://{self.sock}\n\n{programs}"
            )
        self.proc = None
        self._offset = 0
        self._lines = []

    def start(self, wrap=()):
        self.launched = time.time()
        self.proc = spawn([*wrap, *self.impl.daemon, "-n", "-c", self.conf])
        return self

    @property
    def pid(self):
        return self.proc.pid

    def lines(self, needle):
        """Main-log lines containing `needle`, reading only what was appended."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            data = b""
        end = data.rfind(b"\n") + 1  # leave a partial last line for later
        self._offset += end
        self._lines += data[:end].decode(errors="replace").splitlines()
        return [line for line in self._lines if needle in line]

    def wait_lines(self, needle, count, limit=60):
        """Wait for `count` main-log lines containing `needle`; return them."""
        def enough():
            if self.proc.poll() is not None:
                raise BenchError(f"{self.impl.name} supervisord exited early; see {self.log}")
            found = self.lines(needle)
            return found if len(found) >= count else None
        return wait_until(enough, limit, f"{count} '{needle}' lines from {self.impl.name}", 0.01)

    def wait_running(self, count, limit=60):
        """Wait until `count` programs are RUNNING; return the time it took
        from launch, by the timestamp of the last `success:` line."""
        found = self.wait_lines("success: ", count, limit)
        wait_until(lambda: os.path.exists(self.sock), limit, "the unix socket")
        return log_time(found[count - 1]) - self.launched

    def rss(self):
        return rss_bytes(self.pid)

    def stop(self, limit=120):
        """SIGTERM; return the seconds until the daemon exited."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        if not wait_exit(self.proc, limit):
            raise BenchError(f"{self.impl.name} supervisord still running {limit} s after SIGTERM")
        return time.monotonic() - start

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # Normally stopped already; after an error, end it and its programs
        # at once so the next run starts clean.
        if self.proc is not None and self.proc.poll() is None:
            kill_tree(self.proc)
