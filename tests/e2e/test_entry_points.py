"""The real entry points, composed with the real config, at a few epochs."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from dasip.record import RECORD_FILE, read_record
from dasip.spaces import SequentialSpace
from dasip.trial import evaluate_checkpoint, run_trial

from ..conftest import FAST, ROOT, compose_cfg, job_dir

RECORD_KEYS = {
    "study", "seed", "method", "data", "ops", "space", "hparams", "status", "genotype",
    "one_shot_psnr", "arch_psnr", "search_time_s", "train_time_s", "total_time_s", "config",
    "versions", "git_rev", "run_dir", "alpha_probs",
}  # fmt: skip


def _run(
    script: str, args: list[str], cwd: Path, timeout: int = 300
) -> subprocess.CompletedProcess:
    flags = [a for a in args if a.startswith("-")]
    overrides = [a for a in args if not a.startswith("-")]
    proc = subprocess.run(
        [sys.executable, str(ROOT / script), *flags, *FAST, *overrides],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.parametrize("data", ["blur", "downsampling"])
def test_search_trial_writes_a_full_record(tmp_path, data):
    cfg = compose_cfg(overrides=[f"data={data}", "seed=3"])
    rec = run_trial(cfg, tmp_path)
    d = read_record(tmp_path)
    assert set(d) >= RECORD_KEYS
    assert d["status"] == "ok" and d["method"] == "das" and d["data"] == data and d["seed"] == 3
    assert math.isfinite(d["one_shot_psnr"]) and math.isfinite(d["arch_psnr"])
    assert len(d["alpha_probs"]) == 10 and len(d["alpha_probs"][0]) == 4
    assert d["config"]["data"]["name"] == data and "torch" in d["versions"]
    assert len(SequentialSpace().parse(rec.genotype).ops) == 10
    assert (tmp_path / "model.pt").is_file()


@pytest.mark.slow
def test_search_py_then_evaluate_record_and_checkpoint(tmp_path):
    run = tmp_path / "search"
    out = _run("search.py", [f"hydra.run.dir={run}", "seed=1"], tmp_path)
    assert "[dasip] das blur/all/sequential seed=1 status=ok" in out.stdout
    rec = read_record(run)
    assert rec["status"] == "ok"

    ev = tmp_path / "eval"
    out = _run("evaluate.py", [f"hydra.run.dir={ev}", f"record={run}"], tmp_path)
    ev_rec = read_record(ev)
    assert ev_rec["genotype"] == rec["genotype"] and ev_rec["method"] == "fixed"
    assert ev_rec["extra"]["evaluated_from"] == str(run)
    # same seed, same protocol: the retrained PSNR is reproduced
    assert ev_rec["arch_psnr"] == pytest.approx(rec["arch_psnr"], abs=1e-3)

    out = _run("evaluate.py", [f"hydra.run.dir={tmp_path / 'ck'}", f"checkpoint={run}"], tmp_path)
    assert "arch_psnr=" in out.stdout
    psnr = float(out.stdout.split("arch_psnr=")[1].split()[0])
    assert psnr == pytest.approx(rec["arch_psnr"], abs=0.006)  # printed with 2 decimals
    # psnr.* on the command line re-scores the same network under another peak convention
    args = [f"hydra.run.dir={tmp_path / 'ck2'}", f"checkpoint={run}", "psnr.data_range=max"]
    out = _run("evaluate.py", args, tmp_path)
    assert "(psnr.data_range=max)" in out.stdout
    rescored = float(out.stdout.split("arch_psnr=")[1].split()[0])
    by_max = evaluate_checkpoint(compose_cfg("evaluate"), run, psnr={"data_range": "max"})
    assert rescored == pytest.approx(by_max, abs=0.006) and abs(rescored - psnr) > 0.1


@pytest.mark.slow
def test_train_py_trains_one_architecture(tmp_path):
    _run("train.py", [f"hydra.run.dir={tmp_path}", "arch=grad*10"], tmp_path)
    rec = read_record(tmp_path)
    assert rec["method"] == "fixed" and rec["genotype"] == "grad*10"
    assert rec["one_shot_psnr"] is None and math.isfinite(rec["arch_psnr"])


@pytest.mark.slow
def test_evaluate_py_on_a_genotype_string(tmp_path):
    out = _run("evaluate.py", [f"hydra.run.dir={tmp_path}", "arch='grad,net*9'"], tmp_path)
    assert "genotype=grad-net*9" in out.stdout
    assert read_record(tmp_path)["genotype"] == "grad-net*9"


@pytest.mark.slow
def test_evaluate_py_needs_one_source(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "evaluate.py"), *FAST, f"hydra.run.dir={tmp_path}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "needs exactly one of arch=GENOTYPE, record=PATH, checkpoint=PATH" in proc.stderr


@pytest.mark.slow
def test_multirun_over_seeds_data_and_ops(tmp_path):
    sweep = tmp_path / "sweep"
    _run(
        "search.py",
        ["-m", f"hydra.sweep.dir={sweep}", "seed=range(2)", "data=blur,downsampling", "ops=good,all",
         "epochs=1"],
        tmp_path,
        timeout=600,
    )  # fmt: skip
    records = [json.loads((p).read_text()) for p in sorted(sweep.glob(f"*/{RECORD_FILE}"))]
    assert len(records) == 8
    settings = {(r["seed"], r["data"], r["ops"]) for r in records}
    assert len(settings) == 8
    assert all(r["status"] == "ok" for r in records)
    for r in records:
        ops = set(SequentialSpace().parse(r["genotype"]).ops)
        assert ops <= ({"grad", "net"} if r["ops"] == "good" else {"grad", "net", "roll", "noise"})


def test_wandb_offline_run_holds_the_record_summary(tmp_path, monkeypatch):
    """One offline W&B run per trial, grouped by study, whose summary holds the record's fields
    (so a W&B scatter of arch_psnr against one_shot_psnr over a group works once synced)."""
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb-data"))  # staged artifacts
    from .wandb_offline import run_artifacts, run_info, run_summary, run_tags

    cfg = compose_cfg(overrides=["logger=wandb", "logger.wandb.mode=offline", "study=unit"])
    rec = run_trial(cfg, tmp_path)
    runs = list((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1
    keys = ("study", "seed", "method", "data", "ops", "genotype", "status", "git_rev")
    summary = run_summary(runs[0], expect=(*keys, "arch_psnr", "search/val/psnr"))
    for key in keys:
        assert summary[key] == getattr(rec, key), key
    assert summary["arch_psnr"] == pytest.approx(rec.arch_psnr)
    assert summary["one_shot_psnr"] == pytest.approx(rec.one_shot_psnr)
    assert "search/val/psnr" in summary and "search/alpha/0/grad" in summary
    info = run_info(runs[0])
    assert info["group"] == "unit" and info["job_type"] == "das"
    assert info["name"] == "das-blur-all-sequential-s0"
    # the run is found by problem and setting, and carries the record and model as an artifact
    assert run_tags(runs[0]) == ["blur", "ops-all", "sequential", "das", "H1"]
    (artifact,) = run_artifacts(runs[0])
    assert artifact["type"] == "trial" and artifact["name"].startswith("trial-")
    assert artifact["files"] == ["model.pt", "record.json"]


def test_report_wandb_reads_a_real_trials_artifact_as_its_folder(tmp_path, monkeypatch):
    """What a real trial logs to W&B is what ``report.py --wandb`` reads: the record.json of
    its ``trial`` artifact (the copy ``wandb sync`` would upload, staged under
    ``WANDB_DATA_DIR``), served by a stand-in for the W&B API, gives the row the trial folder
    gives, config and extra data included."""
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb-data"))
    from dasip.study.records import load_records, load_wandb

    from ..study.test_records import FakeApi, _artifact_run
    from .wandb_offline import run_artifacts, run_summary

    cfg = compose_cfg(overrides=["logger=wandb", "logger.wandb.mode=offline", "study=unit"])
    rec = run_trial(cfg, tmp_path)
    (wandb_file,) = (tmp_path / "wandb").glob("offline-run-*/run-*.wandb")
    run_summary(wandb_file, expect=("arch_psnr",))  # the service has written the run's records
    (artifact,) = run_artifacts(wandb_file)
    uploaded = Path(artifact["local"][RECORD_FILE])
    assert uploaded.is_file() and uploaded.is_relative_to(tmp_path / "wandb-data")

    folder = load_records(tmp_path / RECORD_FILE)
    df = load_wandb("me/dasip", group="unit", api=FakeApi([_artifact_run(uploaded, 0)]))
    assert df.attrs["from_summary"] == [] and df.attrs["skipped"] == []
    a, b = folder.drop(columns="source"), df.drop(columns="source")
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
    row = df.iloc[0]
    assert row["config"] == rec.config and row["extra"] == json.loads(json.dumps(rec.extra))
    assert row["genotype"] == rec.genotype and row["arch_psnr"] == pytest.approx(rec.arch_psnr)


def test_rerun_of_an_interrupted_multirun_skips_done_jobs_and_retries_the_rest(tmp_path):
    """A study rerun with the same sweep dir neither loses nor duplicates trials: finished jobs
    are skipped (their records untouched), missing and failed ones run, a changed config runs."""
    sweep = tmp_path / "sweep"
    args = ["-m", f"hydra.sweep.dir={sweep}", "seed=range(3)", "epochs=1"]
    _run("search.py", args, tmp_path)
    first = {
        read_record(p.parent)["seed"]: read_record(p.parent) for p in sweep.glob(f"*/{RECORD_FILE}")
    }
    assert sorted(first) == [0, 1, 2]
    # interrupt: job 1 never wrote its record; job 2 failed
    (job_dir(sweep, seed=1) / RECORD_FILE).unlink()
    failed = dict(first[2], status="failed")
    (job_dir(sweep, seed=2) / RECORD_FILE).write_text(json.dumps(failed) + "\n")

    out = _run("search.py", args, tmp_path)
    assert out.stdout.count("already done") == 1
    again = {
        read_record(p.parent)["seed"]: read_record(p.parent) for p in sweep.glob(f"*/{RECORD_FILE}")
    }
    assert again[0] == first[0]  # skipped, untouched
    assert again[1]["created"] != first[1]["created"] and again[1]["status"] == "ok"
    assert again[2]["status"] == "ok"
    assert again[1]["arch_psnr"] == pytest.approx(first[1]["arch_psnr"], abs=1e-6)

    # a different config in the same sweep is a different job: it runs, in its own folder
    out = _run("search.py", ["-m", f"hydra.sweep.dir={sweep}", "seed=0", "epochs=2"], tmp_path)
    assert "already done" not in out.stdout
    assert read_record(job_dir(sweep, seed=0, epochs=2))["search_epochs"] == 2
    assert read_record(job_dir(sweep, seed=0, epochs=1)) == first[0]
    out = _run(
        "search.py",
        ["-m", f"hydra.sweep.dir={sweep}", "seed=0", "epochs=2", "resume=false"],
        tmp_path,
    )
    assert "already done" not in out.stdout


def test_extending_a_grid_runs_only_the_new_jobs_and_overwrites_nothing(tmp_path):
    """Job folders are named by config: a 2x2 grid extended to 2x3 in the same sweep folder runs
    exactly the 2 new trials, and the 4 old records stay byte for byte, also when some of them
    sit in numbered folders (the layout before folders were named by config)."""
    sweep = tmp_path / "sweep"
    grid = ["-m", f"hydra.sweep.dir={sweep}", "data=blur,downsampling", "epochs=1"]
    _run("search.py", [*grid, "seed=range(2)"], tmp_path)
    old = {p: p.read_bytes() for p in sweep.glob(f"*/{RECORD_FILE}")}
    assert len(old) == 4 and len({p.parent.name for p in old}) == 4
    # two of them moved to numbered folders, as an older dasip named them
    for i, path in enumerate(sorted(old)[:2]):
        (sweep / str(i)).mkdir()
        moved = sweep / str(i) / RECORD_FILE
        path.rename(moved)
        old[moved] = old.pop(path)
    out = _run("search.py", [*grid, "seed=range(3)"], tmp_path)
    assert out.stdout.count("already done") == 4
    assert out.stdout.count("[dasip] das ") == 2  # the trials that ran
    records = list(sweep.glob(f"*/{RECORD_FILE}"))
    assert len(records) == 6
    assert sorted(read_record(p.parent)["seed"] for p in records if p not in old) == [2, 2]
    assert all(p.read_bytes() == content for p, content in old.items())
