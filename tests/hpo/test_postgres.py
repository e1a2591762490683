"""The bohb sweeper on a shared PostgreSQL study, as on a cluster: several sweeper processes
("machines") work on one study. CI starts a server (``.ci/postgres.sh``) and these tests must
run there; elsewhere they skip when no server is reachable."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import optuna
import pytest
import yaml

from dasip.record import RECORD_FILE, read_record

from ..conftest import ROOT
from .test_sweeper import DONE, FAULTY, SWEEP, assert_killed_trial_retried_once

ENV = "DASIP_TEST_POSTGRES_URL"


@pytest.fixture(scope="module")
def postgres_url() -> str:
    """The test server's URL; a skip without one, except in CI, where it is a failure."""
    url = os.environ.get(ENV)
    why = None
    if not url:
        why = f"no PostgreSQL server: {ENV} is not set (.ci/postgres.sh starts one)"
    else:
        pytest.importorskip("psycopg")
        import sqlalchemy

        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect():
                pass
        except Exception as e:  # unreachable server
            why = f"PostgreSQL at {url} is not reachable: {e}"
        finally:
            engine.dispose()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests; {why}")
        pytest.skip(why)
    return url


def _study_args(url: str, name: str, *overrides: str) -> list[str]:
    return [*SWEEP, f"hydra.sweeper.storage={url}", f"hydra.sweeper.study_name={name}", *overrides]


def _start(sweep_dir: Path, args: list[str], script: Path = ROOT / "search.py") -> subprocess.Popen:
    sweep_dir.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), *args, f"hydra.sweep.dir={sweep_dir}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=sweep_dir.parent, env=env,
    )  # fmt: skip


def _finish(proc: subprocess.Popen, rc: int = 0) -> str:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == rc, out[-6000:]
    return out


def _trials(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    storage = optuna.storages.RDBStorage(url)
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials()
    finally:
        storage.engine.dispose()


def _records(*sweep_dirs: Path) -> dict[Path, list[int]]:
    """Trial numbers with a record, per sweep directory."""
    return {
        d: sorted(int(p.parent.name.split("_")[1]) for p in d.glob(f"trial_*/{RECORD_FILE}"))
        for d in sweep_dirs
    }


def test_two_sweepers_share_one_study_without_running_a_trial_twice(tmp_path, postgres_url):
    name = f"two-workers-{uuid.uuid4().hex[:8]}"
    args = _study_args(postgres_url, name, "hydra.sweeper.n_trials=8")
    a, b = tmp_path / "a" / "sweep", tmp_path / "b" / "sweep"
    procs = [_start(a, args), _start(b, args)]
    outs = [_finish(p) for p in procs]
    assert all("postgresql+psycopg://" in o and name in o for o in outs)

    ts = _trials(postgres_url, name)
    done = [t for t in ts if t.state.name in DONE]
    assert not any(t.state.name == "RUNNING" for t in ts)
    # both workers ran trials; together they reached n_trials (each asks only for what is
    # missing, so at most one batch each beyond it)
    recs = _records(a, b)
    assert recs[a] and recs[b]
    assert 8 <= len(done) <= 8 + 1
    # no trial ran twice (one record in one worker's directory), none was lost
    assert not set(recs[a]) & set(recs[b])
    assert sorted(recs[a] + recs[b]) == sorted(t.number for t in ts)
    for d, numbers in recs.items():
        for n in numbers:
            rec = read_record(d / f"trial_{n:04d}")
            assert rec["extra"]["hpo"]["trial_number"] == n
            assert rec["extra"]["hpo"]["state"] == ts[n].state.name
    # (whether Hyperband prunes here depends on how the two workers' trials interleave, so this
    # test does not ask for a pruned trial; the next test prunes across workers, sequentially)
    # what optuna-dashboard lists: the study, through the storage API it reads
    storage = optuna.storages.RDBStorage(postgres_url)
    try:
        assert name in {s.study_name for s in storage.get_all_studies()}
        assert len(storage.get_all_trials(storage.get_study_id_from_name(name))) == len(ts)
    finally:
        storage.engine.dispose()
    # both exported the same best trial of the one study
    presets = [
        yaml.safe_load(next((d / "hparams").glob("BOHB-*.yaml")).read_text()) for d in (a, b)
    ]
    assert presets[0] == presets[1]


@pytest.mark.slow  # a long run; the default suite stays under 10 minutes on 2 cores
def test_hyperband_prunes_a_trial_of_one_worker_against_another_workers_trials(
    tmp_path, postgres_url
):
    """Machine a runs 4 trials; machine b joins for the 5th. Its Hyperband pruner compares
    b's trial, at its first rung, with the trials a left in the shared storage, and prunes it.
    (Sequential, so the outcome is fixed: the study name fixes the brackets, the seed the
    sampler; two workers at once decide by how their trials interleave.)"""
    name = "prune-across-workers"
    with contextlib.suppress(KeyError):  # a fixed name: Hyperband hashes it into brackets
        optuna.delete_study(study_name=name, storage=postgres_url)
    a, b = tmp_path / "a" / "sweep", tmp_path / "b" / "sweep"
    _finish(_start(a, _study_args(postgres_url, name, "hydra.sweeper.n_trials=4")))
    _finish(_start(b, _study_args(postgres_url, name, "hydra.sweeper.n_trials=5")))
    ts = _trials(postgres_url, name)
    assert _records(a, b) == {a: [0, 1, 2, 3], b: [4]}
    assert ts[4].state.name == "PRUNED" and ts[4].last_step == 1
    rung = "completed_rung_0"  # the value a trial reported when it reached the first rung
    rivals = [t for t in ts[:4] if rung in t.system_attrs]
    assert rivals, "b's trial had no competitor from a at its rung"
    assert max(t.system_attrs[rung] for t in rivals) > ts[4].system_attrs[rung]
    assert read_record(b / "trial_0004")["status"] == "pruned"


def test_a_killed_worker_leaves_a_trial_that_another_worker_retries(tmp_path, postgres_url):
    name = f"killed-worker-{uuid.uuid4().hex[:8]}"
    args = _study_args(postgres_url, name, "hydra.sweeper.n_trials=3", "+fault.kill_trial=1")
    a, b = tmp_path / "a" / "sweep", tmp_path / "b" / "sweep"
    _finish(_start(a, args, FAULTY), rc=-signal.SIGKILL)  # machine a dies in trial 1
    ts = _trials(postgres_url, name)
    assert [t.state.name for t in ts] == ["COMPLETE", "RUNNING"]
    killed_params = ts[1].params

    # machine b joins the study: trial 1's heartbeat is stale, so it is failed and a copy runs
    _finish(_start(b, _study_args(postgres_url, name, "hydra.sweeper.n_trials=3")))
    ts = _trials(postgres_url, name)
    retries = assert_killed_trial_retried_once(ts, killed_params)
    assert retries[0].number in _records(b)[b]
