#!/usr/bin/env bash
# One prepared check for a CUDA machine (about 6-9 minutes): install the project the README way,
# run the tests marked gpu, one default trial on the GPU, bench_trial.py on the GPU against the
# CPU (per-step times), and a small study with 1, 4 and 8 trials sharing the GPU (trials per
# hour). Run from the repository root:
#     bash benchmarks/device_check.sh
# Offline (the lent GPU machines cannot reach PyPI): run benchmarks/device_wheels.sh here first and
# carry .whl. Figures go into docs/benchmarks.md. Its outputs land in ${OUT:-/tmp/dasip-device}.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/dasip-device}"
mkdir -p "$OUT"
export WANDB_MODE=disabled WANDB_SILENT=true
step() { echo; echo "=== $* ($(date +%T))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
nproc

step "install"
# The README way (pip install -e ".[dev]") where PyPI is reachable; on a machine that cannot
# reach it, the wheels that benchmarks/device_wheels.sh put in .whl/ (carried with the tree) on
# top of the machine's own torch and Lightning.
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site:$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
    PY=python3
else
    python3 -m venv --system-site-packages .venv-device && . .venv-device/bin/activate
    python -m pip install --quiet -e ".[dev]" 2>&1 | tail -3
    PY=python
fi
$PY -c "import torch, dasip; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')" | tee "$OUT/torch.txt"

step "tests marked gpu"
timeout 300 $PY -m pytest -q -p no:cacheprovider -m gpu tests/test_devices.py 2>&1 | tail -15 | tee "$OUT/gpu-tests.txt"

step "one default trial on the GPU (python search.py, trainer.accelerator=auto)"
timeout 400 $PY search.py logger=none trainer.enable_progress_bar=false \
    hydra.run.dir="$OUT/default-trial" 2>&1 | grep -E "^\[dasip\]|dasip: error|Error" | tee "$OUT/default-trial.txt"

step "bench_trial.py: GPU, then CPU (1 thread), the same 10+10 epochs; default = compiled blocks"
# compile.search=true: at 10 epochs auto would stay eager (and it always does on a GPU); the
# second 'default' reuses the compiled graphs, as later trials of a multirun do
timeout 300 $PY benchmarks/bench_trial.py --epochs 10 --retrain-epochs 10 --cold \
    --paths first,eager,default,default trainer.accelerator=gpu compile.search=true 2>&1 \
    | grep -vE "^(GPU|TPU|HPU|LOCAL_RANK|💡)" | tee "$OUT/bench-gpu.txt"
timeout 300 $PY benchmarks/bench_trial.py --epochs 10 --retrain-epochs 10 --threads 1 --cold \
    --paths first,eager,default,default trainer.accelerator=cpu compile.search=true 2>&1 \
    | grep -vE "^(GPU|TPU|HPU|LOCAL_RANK|💡)" | tee "$OUT/bench-cpu.txt"

step "a study on the one GPU: trials per hour with 1, 4 and 8 trials sharing it (hydra/launcher=local)"
timeout 240 $PY benchmarks/bench_study.py --trials 8 --epochs 3 --retrain-epochs 3 --jobs 1,4,8 \
    trainer.accelerator=gpu 2>&1 | grep -vE "^(GPU|TPU|HPU|LOCAL_RANK|💡)" | tee "$OUT/study-gpu.txt"

step "done: results in $OUT"
