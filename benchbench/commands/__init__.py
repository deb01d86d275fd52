"""One module per CLI command; see `benchbench.cli`."""
