"""Floods stdout (FLOOD_BYTES_PER_STEP every step) and stderr once, then trains normally."""

import sys

from tests.fake_backends import fake_backend

FLOOD_BYTES_PER_STEP = 512 * 1024
LINE = "flood " * 15 + "\n"


def _flood(step: int) -> None:
    sys.stdout.write(LINE * (FLOOD_BYTES_PER_STEP // len(LINE)))
    sys.stdout.flush()
    if step == 1:
        sys.stderr.write("flood: stderr line\n")


probe, Backend = fake_backend("flood", _flood)
