#!/usr/bin/env python3
"""Event listener: stop the whole container when a program gives up.

Subscribe it to PROCESS_STATE_FATAL. When any program ends up FATAL (it
could not be started after all its retries), this asks supervisord to shut
down, so the container exits and the orchestrator can restart it, instead
of living on without that program. Standard library only.
"""

import os
import signal
import sys


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        stdout.write(b"READY\n")
        stdout.flush()
        header = stdin.readline()
        if not header:
            return
        fields = dict(token.split(b":", 1) for token in header.split())
        payload = stdin.read(int(fields[b"len"]))  # len counts bytes
        sys.stderr.write("%s: %s\n" % (fields[b"eventname"].decode(), payload.decode()))
        sys.stderr.flush()
        stdout.write(b"RESULT 2\nOK")
        stdout.flush()
        if fields[b"eventname"] == b"PROCESS_STATE_FATAL":
            # Our parent is supervisord: SIGTERM is its orderly shutdown.
            os.kill(os.getppid(), signal.SIGTERM)


if __name__ == "__main__":
    main()
