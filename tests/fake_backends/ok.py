"""Behaves: the NumPy backend under another name."""

from tests.fake_backends import fake_backend

probe, Backend = fake_backend("fake", lambda step: None)
