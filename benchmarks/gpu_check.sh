#!/usr/bin/env bash
# The device check, in one call (see benchmarks/README.md, "On a GPU"): the CUDA tests, the GPU
# benchmark (with and without the trainer's CUDA graphs; GRAPHS=0 skips the second) and a GPU smoke run of the
# CLI, everything written under $OUT.  Expects optuna's
# wheels in .whl/ and the cached data sets gzipped in .gpudata/ (the device machine has no network).
set -uo pipefail
export PYTHONUNBUFFERED=1 AUTORECS_DATA=/tmp/autorecs-data OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD/src
else
  export PYTHONPATH=$PWD/src
fi
for f in .gpudata/*.inter.gz; do
  name=$(basename "$f" .inter.gz); mkdir -p "$AUTORECS_DATA/$name"; gunzip -c "$f" > "$AUTORECS_DATA/$name/$name.inter"
done
nvidia-smi -L | tee "$OUT/machine.txt"; python3 -c 'import torch, numpy, typer; print("torch", torch.__version__, "numpy", numpy.__version__, "typer", typer.__version__)' | tee -a "$OUT/machine.txt"
timeout 120 python3 -m pytest -q -p no:cacheprovider tests/test_device.py 2>&1 | tee "$OUT/cuda-tests.log"
timeout 240 python3 benchmarks/bench_gpu.py --device cuda --cases ${CASES:-epochs fits synthetic} --out "$OUT/gpu.jsonl" 2>&1 | tee "$OUT/bench.log"
if [ "${GRAPHS:-1}" = 1 ]; then  # the trainer's CUDA-graph replay (off by default until measured): the epochs again with it on
  AUTORECS_CUDA_GRAPHS=1 timeout 120 python3 benchmarks/bench_gpu.py --device cuda --cases epochs --count-ops --out "$OUT/gpu.jsonl" 2>&1 | tee -a "$OUT/bench.log"
fi
if [ "${SMOKE:-1}" = 1 ]; then  # SMOKE=0 skips the CLI runs
  { timeout 60 python3 -m autorecs fit --train ml-100k --task ranking --model bpr-mf --device cuda --out /tmp/m --json
    timeout 90 python3 -m autorecs auto --train ml-100k --task ranking --budget 60s --device cuda --out /tmp/auto --json; } \
    > "$OUT/cli.log" 2>&1
  echo "cli rc $?" >> "$OUT/cli.log"; tail -c 3000 "$OUT/cli.log"
  cp /tmp/auto/leaderboard.jsonl "$OUT/" 2>/dev/null || true
fi
