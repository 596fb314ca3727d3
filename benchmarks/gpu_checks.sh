#!/usr/bin/env bash
# The GPU checks in one run, for a machine with an NVIDIA GPU and `pip install ".[cuda]"`:
# the GPU tests, GPU-vs-CPU detections, whole-CLI throughput on CUDA (worker processes and batch
# sizes) beside the CPU path on the same machine, and where the time of one scrub goes.
#
#   benchmarks/gpu_checks.sh [DATA_DIR]        # default ../shared/data/wider-dev
#
# Environment: REPEAT (links per image, default 40), LIMIT (distinct images, default 50),
# JOBS (worker processes to try on CUDA, default "4 8 16"), DEVICE (default cuda; cpu for a dry run).
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/wider-dev}
REPEAT=${REPEAT:-40}
LIMIT=${LIMIT:-50}
JOBS=${JOBS:-"4 8 16"}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python}
export PYTHONUNBUFFERED=1

echo "## machine"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "$(nproc) CPUs; $($PY -c 'import onnxruntime as o; print("onnxruntime", o.__version__, o.get_available_providers())')"

echo "## tests/test_gpu.py"
$PY -m pytest -q -rs -p no:cacheprovider tests/test_gpu.py

echo "## detections, GPU against CPU"
$PY benchmarks/gpu_parity.py --data "$DATA" --presets fast,balanced --limit "$LIMIT" --device "$DEVICE"

for j in $JOBS; do
  echo "## throughput, --device $DEVICE -j $j"
  $PY benchmarks/throughput.py --data "$DATA" --limit "$LIMIT" --repeat "$REPEAT" --presets fast,balanced --device "$DEVICE" --jobs "$j"
done
echo "## throughput, --device $DEVICE -j 8 --batch 32"
$PY benchmarks/throughput.py --data "$DATA" --limit "$LIMIT" --repeat "$REPEAT" --presets balanced --device "$DEVICE" --jobs 8 --batch 32

echo "## throughput, CPU, all cores (the same machine)"
$PY benchmarks/throughput.py --data "$DATA" --limit "$LIMIT" --repeat $(( REPEAT / 5 > 0 ? REPEAT / 5 : 1 )) --presets fast,balanced

echo "## where the time goes, --device $DEVICE"
$PY benchmarks/profile_scrub.py --data "$DATA" --limit "$LIMIT" --presets fast,balanced --device "$DEVICE"
