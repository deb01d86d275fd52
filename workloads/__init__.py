"""The standard workloads, one module each, each defining ``WORKLOAD``."""
