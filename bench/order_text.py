#!/usr/bin/env python3
"""Write link/text-order.ld: the functions the daemon runs, in the order it
first runs them, for the linker to put at the start of the text.

Why: the kernel maps the pages around each page of a binary a process
touches (fault-around: 64 KiB, or a whole large folio of the page cache),
so what stays resident is every stretch of text holding any code the daemon
runs. Laid out by the compiler, the daemon's functions are spread over the
whole binary between supervisorctl's, the line editor's and the web UI's,
and nearly all the text is resident (1.34 of 1.47 MB with 10 programs). Put
together it is about the 0.5 MB the daemon runs. build.rs passes the script
to the linker.

How: build the release binary with its symbols and a link map, run it under
gdb with a one-shot breakpoint on every function, and record the first hits,
in two phases:

  1. the RSS benchmark's case: 10 programs started, a second of idleness,
     SIGTERM (these come first, so that case stays as compact as it can);
  2. what a daemon does besides: programs that write output, one that exits
     and is restarted, supervisorctl status, stop and start against it.

The vfork'd child runs the code between clone and exec in the daemon's
memory, but gdb does not follow it: that module is added whole (ALWAYS).

Each hit is mapped (by address, through the link map) to its input section,
and each section becomes one input-section pattern, in the order of the
hits. Rust's sections are `.text.<symbol>` (v0 names, see
.cargo/config.toml); what varies between builds of the same code becomes
`*`: crate disambiguators and the back-references that move with them, the
instantiating crate at the end of a generic's name, LLVM's `.N` suffixes.
So the file keeps matching after edits, profile changes and toolchain
updates; C library code is named by archive member. A function the daemon
has started running since the file was written is simply not listed, and
lies with the rest of the code again: rerun this now and then, and after
changing what the daemon does at startup:

    python3 bench/order_text.py           # writes the file, then checks it
    python3 bench/order_text.py --check   # only the check

Needs gdb, nm (binutils) and the x86_64-unknown-linux-musl target. The
check builds the binary as shipped and says how much text the script
ordered and which patterns took nothing (a sign the file is stale).
"""

import bisect
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.daemon import Daemon, Impl, program, sleepers  # noqa: E402
from lib.procs import wait_exit  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "x86_64-unknown-linux-musl"
OUT = os.path.join(ROOT, "link", "text-order.ld")
# The code the child runs between clone and exec (gdb detaches from a vfork
# child, so the trace does not see it).
ALWAYS = ["*11supervisord6daemon4proc5child*"]


# ---------------------------------------------------------------- under gdb

def trace_in_gdb():
    """Runs inside gdb (-x this file): a one-shot breakpoint on every
    function; the addresses of the first hits, in order, to $ORDER_TRACE."""
    import gdb  # noqa: F401 (only inside gdb)

    exe = gdb.current_progspace().filename
    nm = subprocess.run(["nm", "--defined-only", exe], capture_output=True, text=True, check=True)
    addrs = sorted({int(a, 16) for a, kind, _ in (l.split(None, 2) for l in nm.stdout.splitlines())
                    if kind in "tTwWi"})
    for command in ("set pagination off", "set confirm off", "set detach-on-fork on",
                    "set follow-fork-mode parent", "set startup-with-shell off"):
        gdb.execute(command)
    for sig in ("SIGCHLD", "SIGTERM", "SIGINT", "SIGHUP", "SIGPIPE", "SIGUSR1", "SIGUSR2", "SIGALRM"):
        gdb.execute(f"handle {sig} nostop noprint pass")
    gdb.execute("starti", to_string=True)
    base = None
    for line in gdb.execute("info proc mappings", to_string=True).splitlines():
        p = line.split()
        if len(p) >= 5 and p[-1] == os.path.realpath(exe) and p[3].startswith("0x"):
            base = int(p[0], 16) - int(p[3], 16)
            break
    if base is None:
        raise RuntimeError("no mapping of the binary")
    # The entry point (_start, in the C runtime's start file) runs before
    # any breakpoint could be hit.
    hits = [int(gdb.parse_and_eval("$pc")) - base]

    class Once(gdb.Breakpoint):
        def stop(self):
            hits.append(self.offset)
            self.enabled = False
            return False

    for a in addrs:
        Once(f"*{base + a:#x}", internal=True).offset = a

    def done(_event):
        with open(os.environ["ORDER_TRACE"], "w") as f:
            f.write("".join(f"{a:x}\n" for a in hits))

    gdb.events.exited.connect(done)
    gdb.execute("continue")


# --------------------------------------------------------------- the driver

def build(symbols=True):
    """The release binary and its link map (rewritten by every link, so it
    describes the binary even when cargo has nothing to do). With symbols
    for the trace; without, it is the shipped build, whose crate hashes
    differ (the profile is part of them): what the check wants."""
    target_dir = os.path.join(ROOT, "target", "text-order" if symbols else "text-order-check")
    link_map = os.path.join(target_dir, "supervisord.map")
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir)
    if symbols:
        env["CARGO_PROFILE_RELEASE_STRIP"] = "false"
    env.pop("RUSTFLAGS", None)  # would replace .cargo/config.toml's (v0 names)
    subprocess.run(["cargo", "rustc", "--release", "--quiet", "--target", TARGET, "--bin", "supervisord",
                    "--", "-C", f"link-arg=-Wl,-Map={link_map}"], cwd=ROOT, env=env, check=True)
    return os.path.join(target_dir, TARGET, "release", "supervisord"), link_map


def input_sections(link_map):
    """(address, size, section, file) of every code input section placed."""
    out = []
    with open(link_map) as f:
        lines = f.read().split("\n")
    start = lines.index("Linker script and memory map")
    pending = None
    for line in lines[start:]:
        if pending is not None:
            p = line.split()
            if len(p) >= 3 and p[0].startswith("0x"):
                out.append((int(p[0], 16), int(p[1], 16), pending, p[2]))
            pending = None
            continue
        m = re.match(r"^ (\.text\S*|\.init|\.fini)(?:\s+(0x\S+)\s+(0x\S+)\s+(\S+))?\s*$", line)
        if not m:
            continue
        if m.group(2) is None:
            pending = m.group(1)  # a long name: address, size, file on the next line
        else:
            out.append((int(m.group(2), 16), int(m.group(3), 16), m.group(1), m.group(4)))
    return sorted(s for s in out if s[1] > 0)


def glob(section):
    """The section name with what varies between builds as `*`."""
    # LLVM's suffixes for local symbols that share a name.
    s, suffixed = re.subn(r"\.(?:llvm\.)?\d+$", "", section)
    s = re.sub(r"17h[0-9a-f]{16}E", "17h*E", s)  # legacy names' hash
    if re.match(r"(?:\.text\.(?:unlikely\.)?)?_R", s):
        # v0: crate disambiguators (hashes of the crates' metadata) and
        # back-references (offsets into the name, which move with them).
        s = re.sub(r"Cs[0-9A-Za-z]+_", "C*_", s)
        s = re.sub(r"B[0-9A-Za-z]*_", "B*_", s)
        # The instantiating crate at the end of a generic's name: whichever
        # crate happened to instantiate it first (it varies between builds).
        m = re.search(r"C\*_(\d+)([0-9A-Za-z_]+)$", s)
        if m and len(m.group(2)) == int(m.group(1)):
            s, suffixed = s[: m.start()], 1
        elif s.endswith("B*_"):
            s, suffixed = s[:-3], 1
    return s + "*" if suffixed else s


def pattern(section, path, members):
    """One input-section description: by name for what rustc compiled, by
    archive member for the C library (musl's assembly is in plain `.text`
    sections, `.text.dummy` is in many members, and a C library built
    without a section per function has all of a member in its `.text`) and
    by file for the C runtime's start files."""
    member = re.search(r"([^/]+\.a)\(([^)]+?)(?:\.lo|\.o)?\)$", path)
    if member:
        name = f"*{member.group(1)}:{member.group(2)}.*o"
        if section != ".text" and name not in members:
            section += " .text"
        members.add(name)
        return f"{name}({section})"
    if "(" not in path and not path.endswith(".rcgu.o"):
        return f"*{os.path.basename(path)}({section})"
    # Our object, or an .rlib's member: the same function whether or not
    # it is marked cold this time.
    name = glob(re.sub(r"^\.text\.(?:unlikely\.)?", "", section))
    return f"*(.text.{name} .text.unlikely.{name})"


def check(link_map):
    """How the script matched in a build: patterns that took nothing, and
    the size of the ordered text."""
    with open(link_map) as f:
        lines = f.read().split("\n")
    start = lines.index("Linker script and memory map")
    statement, empty, total, size = None, [], 0, 0
    inside = False
    for line in lines[start:]:
        if re.match(r"^\.\S", line):
            if inside:
                break
            inside = line.startswith(".text.hot")
            m = re.match(r"^\.text\.hot\s+0x\S+\s+(0x\S+)", line)
            size = int(m.group(1), 16) if m else size
            continue
        if not inside:
            continue
        if line.startswith(" *") and "(" in line and not line.startswith(" *fill*"):
            if statement is not None:
                empty.append(statement)
            statement, total = line.strip(), total + 1
        elif line.startswith(" .") and statement is not None:
            statement = None
    if statement is not None:
        empty.append(statement)
    return total, empty, size


EXTRA = (
    program("chatty", "sh -c 'while :; do echo out; echo err >&2; sleep 0.1; done'")
    + program("brief", "sh -c 'echo bye; exit 3'", startsecs=0, autorestart="true")
)


def trace(binary, d, extra, ctl):
    """One traced run of the daemon (the benchmark's 10 programs and
    `extra`), then the supervisorctl commands `ctl`; the offsets of the
    functions hit, in order."""
    out = d + ".trace"
    os.environ["ORDER_TRACE"] = out  # read by trace_in_gdb, inherited through gdb
    # The binary plays supervisorctl under that name.
    supervisorctl = os.path.join(os.path.dirname(d), "supervisorctl")
    if not os.path.exists(supervisorctl):
        os.symlink(binary, supervisorctl)
    impl = Impl("ours", [binary], [supervisorctl])
    with Daemon(impl, d, sleepers(10) + extra) as daemon:
        daemon.start(wrap=["gdb", "-q", "-batch", "-nx", "-x", os.path.abspath(__file__), "--args"])
        daemon.wait_running(10, limit=120)
        time.sleep(1.5)
        for command in ctl:
            subprocess.run([*impl.ctl, "-c", daemon.conf, *command],
                           stdout=subprocess.DEVNULL, timeout=120)
        # The daemon, not gdb: the trace is written when it exits.
        with open(os.path.join(d, "supervisord.pid")) as f:
            os.kill(int(f.read()), signal.SIGTERM)
        if not wait_exit(daemon.proc, 120):
            raise SystemExit("the traced daemon did not exit")
    with open(out) as f:
        return [int(line, 16) for line in f if line.strip()]


def report():
    """Build as shipped with the script as it is and say how it matched."""
    _, link_map = build(symbols=False)
    total, empty, size = check(link_map)
    print(f"{OUT}: {total} patterns, {size / 1024:.0f} KiB of text ordered; "
          f"{len(empty)} match nothing in this build")
    for statement in empty:
        print(f"  {statement}")


def main():
    for tool in ("gdb", "nm", "cargo"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed")
    with tempfile.TemporaryDirectory(prefix="order-text-") as work:
        if sys.argv[1:] == ["--check"]:
            report()
            return
        if sys.argv[1:]:
            raise SystemExit(__doc__)
        binary, link_map = build()
        sections = input_sections(link_map)
        starts = [s[0] for s in sections]
        phases = [
            trace(binary, os.path.join(work, "bench"), "", []),
            trace(binary, os.path.join(work, "more"), EXTRA,
                  [["status"], ["stop", "chatty"], ["start", "chatty"], ["status"]]),
        ]
        patterns, seen, members = [], set(), set()
        first = None
        for offset in phases[0] + [None] + phases[1]:
            if offset is None:
                first = len(patterns)
                found = [f"*(.text.{g} .text.unlikely.{g})" for g in ALWAYS]
            else:
                i = bisect.bisect_right(starts, offset) - 1
                if i < 0 or not offset < sections[i][0] + sections[i][1]:
                    continue
                _, _, name, path = sections[i]
                if name in (".init", ".fini") or (name, path) in seen:
                    continue
                seen.add((name, path))
                found = [pattern(name, path, members)]
            for p in found:
                if p not in seen:
                    seen.add(p)
                    patterns.append(p)
        body = "\n".join(f"    {p}" for p in patterns)
        with open(OUT, "w") as f:
            f.write(f"""/* The daemon's code first, in the order it first runs it: written by
 * bench/order_text.py (see there for why and how); build.rs passes it to
 * the linker. The first {first} patterns are the benchmark's case (10
 * programs started, idle), the rest what a daemon commonly runs besides.
 * Everything not listed follows in the compiler's order. */
SECTIONS
{{
  .text.hot :
  {{
{body}
  }}
}}
INSERT BEFORE .text;
""")
        report()


if __name__ == "__main__":
    try:
        import gdb  # noqa: F401
    except ImportError:
        main()
    else:
        trace_in_gdb()
