"""Table rows and how they are printed."""

import sys
from dataclasses import dataclass


def log(message):
    """Progress goes to stderr, so stdout is only the table."""
    print(message, file=sys.stderr, flush=True)


@dataclass
class Row:
    label: str
    ours: float
    python: float
    unit: str  # bytes, KiB (given in bytes), seconds, count, req/s or MiB/s
    better: str = "lower"

    def ratio(self):
        """How many times better ours is: above 1, ours is better."""
        if not self.ours or not self.python:
            return "—"
        r = self.python / self.ours if self.better == "lower" else self.ours / self.python
        return f"{r:,.0f}×" if r >= 100 else f"{r:.1f}×" if r < 10 else f"{r:.0f}×"


def figure(value, digits=3):
    """`value` with about `digits` significant digits, never in exponent form."""
    if value == 0:
        return "0"
    decimals = max(0, digits - len(str(int(abs(value)))) if abs(value) >= 1 else digits)
    if abs(value) < 1:
        while decimals < 6 and abs(value) * 10 ** (decimals - digits + 1) < 1:
            decimals += 1
    return f"{value:,.{decimals}f}"


def show(value, unit):
    if value is None:
        return "n/a"
    if unit == "bytes":
        return f"{figure(value / 1024 / 1024)} MiB"
    if unit == "KiB":
        return f"{value / 1024:,.2f} KiB"
    if unit == "seconds":
        return f"{figure(value * 1000)} ms" if value < 1 else f"{figure(value)} s"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.0f} {unit}"


def cells(row):
    return [row.label, show(row.ours, row.unit), show(row.python, row.unit), row.ratio()]


HEADER = ["metric", "ours", "Python 4.3.0", "ratio"]
NOTE = "ratio: how many times better ours is (Python ÷ ours, or ours ÷ Python where higher is better)."


def markdown(rows):
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + NOTE


def plain(rows):
    table = [HEADER] + [cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
             for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n\n" + NOTE
