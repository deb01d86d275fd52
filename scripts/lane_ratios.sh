#!/usr/bin/env bash
# The cost of the abstraction, in one command: runs the adapters that have reference lanes
# (tensorflow, theano, torch, jax) and their lanes (native:*, keras3:*) on mnist_mlp and
# mnist_cnn, on synthetic data of the real shapes (the quick profile's 6,000 samples, 3 epochs:
# throughput is the median of the 2 steady-state epochs), on 2 CPU threads, 3 process-isolated
# repeats, then prints the report's "Cost of the abstraction" tables (Markdown).
#
# The runner visits every backend of a repeat before the next repeat, so adapters and lanes are
# interleaved and drift over the run hits all alike. Targets: every adapter >= 0.95x its native
# lane and >= 1.0x its Keras 3 lane on CPU; the tables mark misses with ✗.
#
# Usage (from anywhere): scripts/lane_ratios.sh [extra `benchbench run` options, e.g. --epochs 4]
# Later options win, so --workload picks other workloads; the recurrent ones (synthetic data, so
# IMDB and Nietzsche need no files):
#   scripts/lane_ratios.sh --workload imdb_bilstm,imdb_fasttext,lstm_text_generation,mnist1d_gru,addition_rnn
# Results go under results/lane-ratios/<machine>/<run>/ (override with LANE_RATIOS_OUT); the
# full Markdown report is written next to them as report.md.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
out="${LANE_RATIOS_OUT:-results/lane-ratios}"
python="${PYTHON:-python}"

"$python" -m benchbench run \
    --backend tensorflow,theano,torch,jax,refs \
    --workload mnist_mlp,mnist_cnn \
    --synthetic --quick --epochs 3 --repeats 3 --threads 2 \
    --out "$out" --no-report "$@"
status=$?  # 1: some cell failed; the others are still reported

run_dir="$(ls -td "$out"/*/*/ 2>/dev/null | head -n 1)"
run_dir="${run_dir%/}"
if [ -z "$run_dir" ] || [ ! -f "$run_dir/manifest.json" ]; then
    echo "lane_ratios: no run directory under $out" >&2
    exit "$(( status ? status : 1 ))"
fi

"$python" -m benchbench report "$run_dir" --format md -o "$run_dir/report.md" >/dev/null || exit $?
echo
echo "# Cost of the abstraction ($run_dir)"
echo
# Each workload's heading (in the Results section), then its cost tables.
awk '/^## /{results = /^## Results/; show = 0}
     results && /^### /{print; print ""}
     /^#### /{show = /^#### Cost of the abstraction/}
     show' "$run_dir/report.md"
echo "Full report: $run_dir/report.md"
exit "$status"
