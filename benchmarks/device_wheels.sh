#!/usr/bin/env bash
# Prepare .whl/ for benchmarks/device_check.sh on a GPU machine that cannot reach PyPI: the
# pure-Python packages dasip needs there beyond the machine's own (its image holds torch,
# pytorch-lightning, torchmetrics, numpy, pandas, seaborn, scipy, pytest). Run here, once:
#     bash benchmarks/device_wheels.sh        # then carry .whl with the working tree
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
rm -rf .whl && mkdir .whl
ver() { python -c "import importlib.metadata as m; print(m.version('$1'))"; }
python -m pip wheel --quiet --no-deps -w .whl \
    "hydra-core==$(ver hydra-core)" "omegaconf==$(ver omegaconf)" "antlr4-python3-runtime==$(ver antlr4-python3-runtime)"
ls -la .whl
