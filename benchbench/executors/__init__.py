"""Executors: where a cell's worker process starts. Nothing else differs between them.

Planning (`benchbench.planner`), the bookkeeping of a run (`benchbench.runner`: run
directories, manifests, the time budget, result files) and the cell itself
(`executors.cell.CellRunner`: the worker's command line and environment, timing, the result
record) are shared, so a local and a cluster run cannot measure differently.

- `executors.local.LocalExecutor`: one machine, this one; its cells one after the other, each in
  a fresh process started from this process.
- `executors.dask.DaskExecutor`: the machines of a Dask cluster, one cell at a time on each,
  each cell in a fresh process started by the machine's own Dask worker
  (`executors.dask_worker`), all machines at once.

An executor offers the runner (`runner.run_machines`) three calls:

- ``ready(machine) -> bool``: the machine can take a cell now (it has none, and is still
  there);
- ``submit(machine, spec)``: start the cell on the machine;
- ``wait(on_progress) -> list[Finished]``: wait a little for cells to end; meanwhile
  ``on_progress(machine, state)`` gets each running worker's progress (`benchbench.progress`).

and ``cancel()``, which stops every running cell (Ctrl-C).
"""

from __future__ import annotations

import dataclasses

from benchbench.results import CellResult, CellSpec


@dataclasses.dataclass(frozen=True)
class Finished:
    """A cell that ended on `machine`: its result (``ran``: a worker process ran), or, when
    the machine itself was lost while the cell ran, ``lost``: why, and no result."""

    machine: str
    spec: CellSpec
    result: CellResult | None = None
    ran: bool = False
    lost: str = ""


__all__ = ["Finished"]
