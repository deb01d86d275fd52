#!/usr/bin/env bash
# The figures that show whether benchbench's numbers can be trusted on a shared machine. Run each
# on a machine that is otherwise quiet (nothing else busy), from anywhere:
#
#   scripts/trust_figures.sh burner    a quiet run, then the same run beside a CPU-burning process
#                                      on the cells' CPU: the second run's cells are flagged noisy
#                                      with the interference figures (summary tables printed)
#   scripts/trust_figures.sh aa        `check` of those two runs (an A/A comparison under
#                                      contention): must pass, the timing changes "unclear (noisy)"
#   scripts/trust_figures.sh slowdown  a step that burns a fixed CPU time (the tests' 'spin' fake
#                                      backend), then 30% more per step: `check` must fail (exit 1)
#   scripts/trust_figures.sh mixed     digits_mlp at its quick profile and at its default setting
#                                      into one directory; the report keeps them in separate columns
#   scripts/trust_figures.sh default   the default `run --backend all` with a cold PyTensor cache:
#                                      its wall time and the accuracy tables of its report
#   scripts/trust_figures.sh all       all of the above, in that order
#
# Results go under results/trust-figures/ (override with TRUST_OUT); PYTHON picks the interpreter.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
out="${TRUST_OUT:-results/trust-figures}"
python="${PYTHON:-python}"
bench=("$python" -m benchbench)
# One thread: each worker is pinned to the first CPU this shell may use, where the burner goes.
cpu="$("$python" -c 'import os; print(sorted(os.sched_getaffinity(0))[0])')"
pair=(--backend numpy,torch --workload digits_mlp --repeats 3 --threads 1 --machine here)

latest() { ls -td "$1"/*/*/ 2>/dev/null | head -n 1; }

burn() {  # a plain Python loop on CPU $cpu, until killed
    "$python" -c "import os; os.sched_setaffinity(0, {$cpu})
while True: pass" &
    burner=$!
    sleep 1
}

burner_runs() {
    rm -rf "$out/quiet" "$out/burner"
    echo "## quiet run (digits_mlp, numpy and torch, 3 repeats, 1 thread on CPU $cpu)"
    "${bench[@]}" run "${pair[@]}" --out "$out/quiet" --no-report | sed -n '/^workload/,$p'
    echo
    echo "## the same run beside a CPU burner on CPU $cpu"
    burn
    "${bench[@]}" run "${pair[@]}" --out "$out/burner" --no-report | sed -n '/^workload/,$p'
    kill "$burner"
    wait "$burner" 2>/dev/null || true  # it ends by SIGTERM: status 143 is not a failure
}

aa_check() {
    [ -d "$out/quiet" ] && [ -d "$out/burner" ] || burner_runs >/dev/null
    echo "## check quiet -> burner (A/A under contention): expect exit 0"
    "${bench[@]}" check "$out/quiet" "$out/burner"
    echo "exit status: $?"
}

slowdown() {
    rm -rf "$out/spin-base" "$out/spin-slow"
    local fakes=(env "BENCHBENCH_BACKEND_MODULES=spin=tests.fake_backends.spin"
        "BENCHBENCH_WORKLOADS_PACKAGE=tests.fake_workloads")
    local args=(--backend spin --workload tiny --repeats 5 --threads 1 --no-report)
    "${fakes[@]}" BENCHBENCH_FAKE_SPIN=0.015 "${bench[@]}" run "${args[@]}" --out "$out/spin-base" \
        >/dev/null
    "${fakes[@]}" BENCHBENCH_FAKE_SPIN=0.0195 "${bench[@]}" run "${args[@]}" --out "$out/spin-slow" \
        >/dev/null
    echo "## check base -> 30% more CPU work per step: expect exit 1 on a quiet machine"
    "${bench[@]}" check "$out/spin-base" "$out/spin-slow"
    echo "exit status: $?"
}

mixed() {
    rm -rf "$out/mixed"
    "${bench[@]}" run "${pair[@]}" --quick --out "$out/mixed" --no-report >/dev/null
    "${bench[@]}" run "${pair[@]}" --out "$out/mixed" --no-report >/dev/null
    "${bench[@]}" report "$out/mixed" --format md -o "$out/mixed/report.md" >/dev/null
    echo "## report over a quick and a default run of digits_mlp ($out/mixed/report.md)"
    awk '/^## At a glance/,/^## Results/' "$out/mixed/report.md" | sed '$d'
    awk '/^#### Speed/,/^#### Accuracy/' "$out/mixed/report.md" | sed '$d'
}

default_run() {
    rm -rf "$out/default"
    local cache
    cache="$(mktemp -d)"
    echo "## python -m benchbench run --backend all (cold PyTensor cache: $cache)"
    local start=$SECONDS
    BENCHBENCH_PYTENSOR_COMPILEDIR="$cache" "${bench[@]}" run --backend all --out "$out/default" \
        | sed -n '/^workload/,$p'
    echo "wall time: $((SECONDS - start)) s (run, summary and report)"
    local run_dir
    run_dir="$(latest "$out/default")"
    "${bench[@]}" report "${run_dir%/}" --format md -o "${run_dir%/}/report.md" >/dev/null
    awk '/^### /{print; print ""} /^#### Accuracy/{show = 1} /^#### /&&!/Accuracy/{show = 0} show' \
        "${run_dir%/}/report.md"
    rm -rf "$cache"
}

case "${1:-}" in
burner) burner_runs ;;
aa) aa_check ;;
slowdown) slowdown ;;
mixed) mixed ;;
default) default_run ;;
all)  # each part runs whatever an earlier one printed; `check`'s exit statuses are printed
    burner_runs
    aa_check
    slowdown
    mixed
    default_run
    ;;
*)
    sed -n '2,18p' "$0"
    exit 2
    ;;
esac
