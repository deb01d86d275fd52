"""Fake workloads for the runner's tests: tiny, and bringing their own data (no dataset
needed). Tests select them with ``BENCHBENCH_WORKLOADS_PACKAGE=tests.fake_workloads``."""
