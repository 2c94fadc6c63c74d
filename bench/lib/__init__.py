"""The parts of bench/run.py: building, daemons, measurements, the table."""
