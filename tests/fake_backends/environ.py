"""Behaves, and reports the environment its worker process was started with: ``info()`` has
``environ`` (the cluster tests compare it with a local worker's)."""

import os

from tests.fake_backends import fake_backend

#: Taken when the worker imports this adapter, before any framework could change it.
STARTED_WITH = dict(os.environ)

probe, _Backend = fake_backend("environ", lambda step: None)


class Backend(_Backend):
    def info(self) -> dict:
        return {**super().info(), "environ": STARTED_WITH}
