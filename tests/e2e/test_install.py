"""An installed wheel runs a search from an empty directory: the configs, the console commands,
the Hydra apps' pickled task functions (the local launcher) and the bohb sweeper plugin all come
from the wheel, not from this checkout. Slow: a fresh venv (torch, then the wheel and its
dependencies as pip resolves them from its configured index), once per session."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT

pytestmark = pytest.mark.slow

#: a search of a few seconds
TINY = ["logger=none", "epochs=1", "retrain_epochs=1", "data.batches_per_epoch=2",
        "data.batch_size=16", "data.val_size=64", "data.eval_batch_size=64", "ops.width=4",
        "trainer.enable_progress_bar=false", "compile.search=false"]  # fmt: skip

#: the CPU torch the project's venvs install first (the wheel asks only for torch>=2.2,<3)
TORCH = "torch==2.13.0"


def _pip(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=900)  # fmt: skip


@pytest.fixture(scope="session")
def venv(tmp_path_factory) -> Path:
    """A fresh venv (no system site-packages, so it cannot see the dev install) holding the
    wheel built from this checkout; its ``bin`` folder."""
    tmp = tmp_path_factory.mktemp("install")
    # built from a copy of what the wheel is made of: no stale build/ in the checkout gets in
    src = tmp / "src"
    shutil.copytree(
        ROOT / "src", src / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for isolation in ([], ["--no-build-isolation"]):  # offline: build with this venv's setuptools
        built = _pip("wheel", str(src), "--no-deps", "-q", "-w", str(tmp / "dist"), *isolation)
        if built.returncode == 0:
            break
    else:
        pytest.skip(
            f"cannot build dasip's wheel here (offline, no setuptools?): {built.stderr[-800:]}"
        )
    (wheel,) = (tmp / "dist").glob("dasip-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=300)
    python = str(tmp / "venv" / "bin" / "python")
    for what in ([TORCH], [str(wheel)]):
        installed = _pip("install", "-q", *what, python=python)
        if installed.returncode != 0:
            if (
                "No matching distribution" in installed.stderr
                or "Could not find" in installed.stderr
            ):
                pytest.skip(
                    f"pip cannot get {what[0]} or a dependency here: {installed.stderr[-800:]}"
                )
            raise AssertionError(installed.stderr[-3000:])
    return tmp / "venv" / "bin"


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(WANDB_MODE="disabled", WANDB_SILENT="true")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def test_the_installed_wheel_runs_a_study_from_an_empty_directory(venv, tmp_path):
    where = _run([str(venv / "python"), "-c", "import dasip; print(dasip.__file__)"], tmp_path)
    assert str(venv.parent) in where.stdout and str(ROOT) not in where.stdout

    # two trials side by side through the joblib launcher: its workers unpickle the task function
    _run([str(venv / "dasip-search"), "-m", "seed=0,1", "hydra/launcher=local", *TINY], tmp_path)
    records = sorted(tmp_path.glob("multirun/search/*/*/record.json"))
    assert len(records) == 2, sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert {json.loads(p.read_text())["status"] for p in records} == {"ok"}

    # the bohb sweeper plugin is found in the wheel's hydra_plugins namespace
    out = _run([str(venv / "python"), "-m", "dasip", "search", "hydra/sweeper=bohb", "--cfg",
                "hydra", "-p", "hydra.sweeper._target_"], tmp_path)  # fmt: skip
    assert "BOHBSweeper" in out.stdout
