"""A workload whose data is never there."""

from benchbench.errors import DataUnavailable
from benchbench.workloads import Profile, Workload
from tests.fake_workloads import tiny


def data(quick: bool, synthetic: bool, seed: int):
    raise DataUnavailable("dataset 'nowhere' is not on this machine: put it in /nowhere")


WORKLOAD = Workload(
    name="nodata",
    description="a workload without data (tests)",
    dataset="nowhere",
    input_shape=tiny.WORKLOAD.input_shape,
    num_classes=3,
    build=tiny.build,
    optimizer=tiny.optimizer,
    loss="categorical_crossentropy",
    batch_size=32,
    default=Profile(epochs=1),
    quick=Profile(epochs=1),
    params=tiny.WORKLOAD.params,
    data=data,
)
