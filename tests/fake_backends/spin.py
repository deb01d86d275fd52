"""Burns ``$BENCHBENCH_FAKE_SPIN`` seconds (default 0.01) of its own CPU time before every step.

The step's cost is fixed in CPU time, not in wall time: another process on the same CPU
stretches it, as it would a real compute-bound step, and a larger value is a real slowdown of
the code. The contention tests use it to tell the two apart.
"""

import os
import time

from tests.fake_backends import fake_backend


def _spin(step: int) -> None:
    end = time.thread_time() + float(os.environ.get("BENCHBENCH_FAKE_SPIN", "0.01"))
    while time.thread_time() < end:
        pass


probe, Backend = fake_backend("spin", _spin)
