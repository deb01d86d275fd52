"""One benchmark per (backend, quick workload): the steady-state train step. See conftest.py."""


def test_train_step(benchmark, train_step, backend_name, workload_name):
    step, x, y, extra = train_step
    benchmark.group = workload_name
    benchmark.extra_info.update(extra)
    loss, _ = benchmark(step, x, y)
    assert loss == loss, f"{backend_name}/{workload_name}: the loss is NaN"
