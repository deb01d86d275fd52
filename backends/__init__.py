"""Backend adapters, one package per framework; see `benchbench.backend` for the contract."""
