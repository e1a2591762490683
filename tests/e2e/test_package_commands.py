"""The Hydra apps live in the package (:mod:`dasip.entry`) with their configs (``dasip/conf``):
``dasip-search``, ``python -m dasip search`` and ``python search.py`` are one app, whose job is
named ``search`` and whose task function pickles by reference; a user's config folder joins the
package's through ``hydra.searchpath``. No training here (``--cfg``)."""

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dasip import CONF_DIR
from dasip.__main__ import main as dasip_main
from dasip.entry import evaluate, search, train

from ..conftest import ROOT


def _hydra(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_configs_are_package_data():
    assert (CONF_DIR / "search.yaml").is_file()
    assert CONF_DIR.parent.name == "dasip"
    assert (CONF_DIR / "hparams" / "H1.yaml").is_file()


def test_task_functions_pickle_by_reference_for_the_launchers():
    # joblib (loky) and submitit send the task function to their workers; a module-level
    # function of the package unpickles as itself there
    for mod, name in ((search, "search"), (train, "train"), (evaluate, "evaluate")):
        fn = getattr(mod, name)
        assert pickle.loads(pickle.dumps(fn)) is fn
        assert fn.__module__ == f"dasip.entry.{name}"  # Hydra's job name: the module's last part


def test_python_m_dasip_lists_its_commands(capsys):
    assert dasip_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in ("search", "train", "evaluate", "report", "floor"))
    assert dasip_main(["nope"]) == 2


@pytest.mark.slow  # a long run; the default suite stays under 10 minutes on 2 cores
def test_the_shim_and_python_m_dasip_keep_the_job_names(tmp_path):
    # (outputs/search/<date>, multirun/search/<date>, as before the apps moved into the package)
    shim = _hydra([sys.executable, str(ROOT / "search.py"), "--cfg", "hydra", "-p",
                   "hydra.job.name"], tmp_path)  # fmt: skip
    assert shim.strip() == "search"
    out = _hydra([sys.executable, "-m", "dasip", "evaluate", "--cfg", "hydra", "-p",
                  "hydra.job.name"], tmp_path)  # fmt: skip
    assert out.strip() == "evaluate"


def test_a_users_config_folder_adds_options(tmp_path):
    """``hydra.searchpath=[file:///path/to/myconf]``: a preset of one's own beside the package's."""
    mine = tmp_path / "myconf"
    (mine / "hparams").mkdir(parents=True)
    h1 = yaml.safe_load((CONF_DIR / "hparams" / "H1.yaml").read_text())
    (mine / "hparams" / "mine.yaml").write_text(
        yaml.safe_dump({**h1, "name": "mine", "param_lr": 0.0123})
    )
    (mine / "setup").mkdir()
    (mine / "setup" / "tiny.yaml").write_text("# @package _global_\nsetup: tiny\nepochs: 3\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = _hydra(
        [sys.executable, "-m", "dasip", "search", "--cfg", "job", "hparams=mine", "setup=tiny",
         f"hydra.searchpath=[file://{mine}]"],
        work,
    )  # fmt: skip
    cfg = yaml.safe_load(out)
    assert cfg["hparams"]["name"] == "mine" and cfg["hparams"]["param_lr"] == 0.0123
    assert cfg["setup"] == "tiny" and cfg["epochs"] == 3
    assert cfg["data"]["name"] == "blur"  # the package's groups are all still there
