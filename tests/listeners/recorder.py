#!/usr/bin/env python3
"""An event listener for the tests, standard library only.

Appends every event it receives to the file named by its first argument,
exactly as received: the header line, the payload, then a 0x1e byte.
The second argument says how to behave:
  ok           answer OK to everything
  fail-first   FAIL the first delivery of each serial, OK the redelivery
  hold         before answering the first event, wait for a file named
               like the output file plus ".release"
  die-first    exit without answering the first event this listener ever
               gets (a file plus ".died" remembers it across restarts)
  mute         say READY once, then never read stdin again
  double-ready say READY twice (a protocol violation)
"""

import os
import sys
import time

out, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "ok")
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer


def say(data):
    stdout.write(data)
    stdout.flush()


if mode == "double-ready":
    say(b"READY\nREADY\n")
if mode in ("mute", "double-ready"):
    # Never reading stdin, these cannot see it close: leave with supervisord.
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.1)
    sys.exit(0)

seen = set()
held = False
while True:
    say(b"READY\n")
    header = stdin.readline()
    if not header:
        break
    fields = dict(token.split(b":", 1) for token in header.split())
    payload = stdin.read(int(fields[b"len"]))
    with open(out, "ab") as f:
        f.write(header + payload + b"\x1e")
    serial = fields[b"serial"]
    if mode == "hold" and not held:
        held = True
        deadline = time.monotonic() + 60
        while not os.path.exists(out + ".release") and time.monotonic() < deadline:
            time.sleep(0.02)
    if mode == "die-first" and not os.path.exists(out + ".died"):
        open(out + ".died", "w").close()
        sys.exit(1)
    if mode == "fail-first" and serial not in seen:
        seen.add(serial)
        say(b"RESULT 4\nFAIL")
    else:
        say(b"RESULT 2\nOK")
