"""Reading records: nested folders, reruns counted once, W&B runs (API mocked at the boundary)."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import types
from pathlib import Path

import numpy as np
import pytest
from pytorch_lightning.loggers import WandbLogger as LightningWandbLogger

from dasip.loggers import finish_loggers
from dasip.record import TrialRecord, read_record
from dasip.study import (
    StudyError,
    combine_records,
    job_key,
    load_records,
    load_wandb,
    mixed_settings,
)
from dasip.study.records import RECORD_FIELDS, scalar_fields

from .conftest import make_record, write


def test_nested_folders_one_row_per_trial(hand_study):
    df = load_records(hand_study)
    assert len(df) == 13 and df.attrs["n_records"] == 13
    assert not df.attrs["duplicates"] and not df.attrs["skipped"]
    assert set(RECORD_FIELDS) <= set(df.columns) and "config" in df.columns
    # null PSNRs are NaN floats, and the trials are still rows
    failed = df[df["status"] == "failed"].iloc[0]
    assert math.isnan(failed["arch_psnr"]) and math.isnan(failed["one_shot_psnr"])
    assert df["arch_psnr"].dtype == float
    # several paths, overlapping: each file once
    again = load_records([hand_study / "search", hand_study, hand_study / "train/day1/0"])
    assert len(again) == 13


def test_reruns_of_a_job_count_once_newest_kept(tmp_path):
    old = make_record(seed=0, arch=20.0, created="2024-01-01T10:00:00+00:00")
    new = make_record(seed=0, arch=22.0, created="2024-01-02T10:00:00+00:00", logger="wandb")
    other_seed = make_record(seed=1, arch=21.0)
    other_epochs = make_record(seed=0, arch=23.0, epochs=50)  # another experiment, not a rerun
    write(tmp_path, "sweep2/0", new)
    write(tmp_path, "sweep1/0", old)
    write(tmp_path, "sweep1/1", other_seed)
    write(tmp_path, "sweep3/0", other_epochs)
    # a rerun differing only in logging is the same job; in epochs it is not
    assert job_key(old.to_dict()) == job_key(new.to_dict())
    assert job_key(old.to_dict()) != job_key(other_epochs.to_dict())

    df = load_records(tmp_path)
    assert len(df) == 3 and df.attrs["n_records"] == 4
    seed0 = df[(df["seed"] == 0) & (df["config"].map(lambda c: c["epochs"]) == 2)].iloc[0]
    assert seed0["arch_psnr"] == 22.0 and seed0["records"] == 2
    (dropped, kept), = df.attrs["duplicates"]  # fmt: skip
    assert "sweep1/0" in dropped and "sweep2/0" in kept
    assert len(load_records(tmp_path, keep_duplicates=True)) == 4
    # the setting now mixes two experiments: say so
    mixed = mixed_settings(df)
    assert list(mixed.values()) == [["epochs"]]


def test_every_scalar_record_field_is_a_column(tmp_path):
    rec = make_record(
        seed=3, one_shot=19.0, arch=21.0, search_epochs=2, retrain_epochs=1, error="boom",
        git_rev="abc", run_dir="runs/3", alpha_probs=[[0.5, 0.5]], extra={"k": 1},
        versions={"dasip": "0.1.0"},
    )  # fmt: skip
    d = rec.to_dict()
    scalars = [k for k, v in d.items() if not isinstance(v, (dict, list))]
    assert None not in [d[k] for k in scalars]  # every field filled: none is missed as empty
    assert list(RECORD_FIELDS) == scalars  # derived from the record, in its order
    write(tmp_path, "0", rec)
    row = load_records(tmp_path).iloc[0]
    assert {k: row[k] for k in RECORD_FIELDS} == pytest.approx({k: d[k] for k in scalars})


def test_a_new_record_field_becomes_a_column():
    @dataclasses.dataclass
    class Newer(TrialRecord):
        gpu_hours: float | None = None

    assert scalar_fields(Newer) == (*RECORD_FIELDS, "gpu_hours")


def test_unreadable_files_are_skipped_and_listed(tmp_path):
    write(tmp_path, "ok", make_record(seed=0, arch=20.0))
    files = {
        "broken": "{not json",
        "other": '{"hello": 1}',
        "empty": "\n\n",
        "list": "[1, 2]",
    }
    for name, text in files.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "record.json").write_text(text)
    df = load_records(tmp_path)
    assert len(df) == 1
    why = {p.split("/")[-2]: reason for p, reason in df.attrs["skipped"]}
    assert why == {
        "broken": why["broken"],
        "other": "not a trial record (no status, no arch_psnr)",
        "empty": "not a readable record: empty file",
        "list": "not a readable record: not a JSON object",
    }
    assert why["broken"].startswith("not a readable record: not JSON: Expecting property name")


def test_one_reader_for_every_record_file(tmp_path):
    """The study reads records with ``dasip.record.read_record``: one JSON object on one line or
    on several, or JSON lines (the last one is the current record)."""
    rec = make_record(seed=0, arch=20.0).to_dict()
    (tmp_path / "pretty").mkdir()
    (tmp_path / "pretty" / "record.json").write_text(json.dumps(rec, indent=2))
    (tmp_path / "lines").mkdir()
    older = {**rec, "arch_psnr": 1.0, "seed": 1}
    (tmp_path / "lines" / "record.json").write_text(
        f"{json.dumps(older)}\n{json.dumps({**rec, 'seed': 1})}\n"
    )
    assert read_record(tmp_path / "pretty") == rec
    assert read_record(tmp_path / "lines" / "record.json")["arch_psnr"] == 20.0
    df = load_records(tmp_path, keep_duplicates=True)
    assert sorted(df["seed"]) == [0, 1] and list(df["arch_psnr"]) == [20.0, 20.0]
    with pytest.raises(FileNotFoundError, match="no trial record at"):
        read_record(tmp_path / "missing")


def test_folders_combined_count_each_job_once(hand_study):
    search, everything = load_records(hand_study / "search"), load_records(hand_study)
    df = combine_records([search, everything])
    assert len(df) == 13 and df.attrs["n_records"] == 11 + 13
    assert len(df.attrs["duplicates"]) == 11 and df.attrs["sources"] == [
        str(hand_study / "search"), str(hand_study)
    ]  # fmt: skip
    assert len(combine_records([search, everything], keep_duplicates=True)) == 24
    assert combine_records([search]) is search


def test_no_records_is_a_clear_error(tmp_path):
    with pytest.raises(StudyError, match=r"no trial records \(record.json\) found under"):
        load_records(tmp_path)
    with pytest.raises(StudyError, match="no such file or directory"):
        load_records(tmp_path / "missing")


# -- W&B ----------------------------------------------------------------------------------------
class _Experiment:
    def __init__(self):
        self.summary: dict = {}

    def finish(self):
        pass


class WandbLogger(LightningWandbLogger):  # finish_loggers recognises W&B by the logger's class
    def __init__(self):  # no W&B run
        self._run = _Experiment()

    @property
    def experiment(self):
        return self._run


def _wandb_run_of(record, i: int):
    """A W&B run as the trial runner leaves it: the record's fields in the summary (written by
    the project's own finish_loggers), the resolved config as the run config."""
    logger = WandbLogger()
    finish_loggers([logger], record.summary())
    summary = {**logger.experiment.summary, "_runtime": 3.0, "search/val/psnr": 12.0}
    return types.SimpleNamespace(
        summary_metrics=summary, config=record.config, id=f"run{i}",
        url=f"https://wandb.ai/me/dasip/runs/run{i}", logged_artifacts=lambda: [],
    )  # fmt: skip


class _Entry:
    """An artifact's file as the W&B API gives it: ``download(root)`` writes it under root."""

    def __init__(self, source: Path | None):
        self.source = source

    def download(self, root=None):
        if self.source is None:
            raise ConnectionError("artifact storage unreachable")
        dest = Path(root) / self.source.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.source, dest)
        return str(dest)


class _Artifact:
    def __init__(self, files: dict[str, Path | None], type: str = "trial"):
        self.type, self.name, self.files = type, "trial-x:v0", files

    def get_entry(self, name):
        if name not in self.files:
            raise KeyError(name)
        return _Entry(self.files[name])


def _artifact_run(record_file: Path, i: int, artifacts=None):
    """A W&B run whose summary is empty (so only its artifact can give the record)."""
    arts = [_Artifact({"record.json": record_file})] if artifacts is None else artifacts
    return types.SimpleNamespace(
        summary_metrics={"_runtime": 1.0}, config={}, id=f"art{i}",
        url=f"https://wandb.ai/me/dasip/runs/art{i}", logged_artifacts=lambda: arts,
    )  # fmt: skip


class FakeApi:
    calls: list = []

    def __init__(self, runs):
        self._runs = runs

    def runs(self, path, filters=None):
        FakeApi.calls.append((path, filters))
        return iter(self._runs)


def test_wandb_runs_give_the_same_rows_as_the_folders(hand_study, monkeypatch):
    import wandb

    from dasip.record import TrialRecord

    folder = load_records(hand_study)
    records = [
        TrialRecord(**{k: v for k, v in r.items() if k in TrialRecord.__dataclass_fields__})
        for r in folder.drop(columns=["source", "job_key", "records"]).to_dict("records")
    ]
    for r in records:  # the frame holds NaN; a record holds None
        for k in ("one_shot_psnr", "arch_psnr"):
            v = getattr(r, k)
            setattr(r, k, None if v is None or np.isnan(v) else v)
    runs = [_wandb_run_of(r, i) for i, r in enumerate(records)]
    runs.append(
        types.SimpleNamespace(
            summary_metrics={"loss": 1.0}, config={}, id="x", url="u", logged_artifacts=lambda: []
        )
    )
    FakeApi.calls = []
    monkeypatch.setattr(wandb, "Api", lambda: FakeApi(runs))

    df = load_wandb("me/dasip", group="das-sequential")
    assert FakeApi.calls == [("me/dasip", {"group": "das-sequential"})]
    assert len(df) == len(folder) and df.attrs["skipped"] == [
        ("u", "no trial artifact and no trial record in the run summary")
    ]
    assert len(df.attrs["from_summary"]) == len(folder)
    cols = ["method", "ops", "seed", "status", "genotype", "one_shot_psnr", "arch_psnr", "job_key"]
    a = folder[cols].sort_values(["method", "ops", "seed"]).reset_index(drop=True)
    b = df[cols].sort_values(["method", "ops", "seed"]).reset_index(drop=True)
    assert a.equals(b)


def test_wandb_trial_artifacts_give_the_folders_records_exactly(hand_study):
    """Each run's record.json artifact is the record itself: the rows equal the folder's in
    every column, the nested ``extra`` and config included, whatever the summary holds."""
    folder = load_records(hand_study)
    files = sorted(hand_study.rglob("record.json"))
    for n, f in enumerate(files):  # nested extra data that a summary would not carry
        rec = read_record(f)
        rec["extra"] = {"hessian_eigenvalues": [0.1 * n, 0.2, None], "hpo": {"trial_number": n}}
        f.write_text(json.dumps(rec))
    folder = load_records(hand_study)
    runs = [_artifact_run(f, i) for i, f in enumerate(files)]
    df = load_wandb("me/dasip", api=FakeApi(runs))
    assert df.attrs["from_summary"] == [] and df.attrs["skipped"] == []
    key = ["method", "ops", "seed"]
    a = folder.drop(columns="source").sort_values(key).reset_index(drop=True)
    b = df.drop(columns="source").sort_values(key).reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
    assert sorted(df["source"]) == sorted(r.url for r in runs)
    assert {len(e["hessian_eigenvalues"]) for e in df["extra"]} == {3}


def test_runs_without_a_readable_artifact_fall_back_to_their_summary(hand_study, tmp_path):
    files = sorted(hand_study.rglob("record.json"))
    fields = TrialRecord.__dataclass_fields__
    rec = TrialRecord(**{k: v for k, v in read_record(files[0]).items() if k in fields})
    summary_run = _wandb_run_of(rec, 0)  # no artifact: an older run
    broken = _artifact_run(files[1], 1, artifacts=[_Artifact({"record.json": None})])
    broken.summary_metrics = dict(summary_run.summary_metrics)
    broken.config = dict(summary_run.config)
    garbage = tmp_path / "record.json"
    garbage.write_text("{not json")
    unreadable = _artifact_run(garbage, 2)  # a broken file and no summary record: skipped
    other_type = _artifact_run(files[2], 3, artifacts=[_Artifact({"model.pt": files[2]}, "model")])
    good = _artifact_run(files[3], 4)
    df = load_wandb("me/dasip", api=FakeApi([summary_run, broken, unreadable, other_type, good]))
    # summary_run and broken (from its summary, the same job) count once; then good
    assert len(df) == 2 and sorted(df["records"]) == [1, 2]
    whys = dict(df.attrs["from_summary"])
    assert set(whys) == {summary_run.url, broken.url}
    assert whys[summary_run.url] == "no trial artifact"
    assert whys[broken.url].startswith("its trial artifact is unreadable (ConnectionError")
    skipped = dict(df.attrs["skipped"])
    assert set(skipped) == {unreadable.url, other_type.url}
    assert skipped[unreadable.url].startswith("its trial artifact is unreadable (")
    assert skipped[other_type.url] == "no trial artifact and no trial record in the run summary"
    assert good.url in set(df["source"])


def test_wandb_path_must_be_entity_slash_project():
    with pytest.raises(StudyError, match="expected ENTITY/PROJECT"):
        load_wandb("dasip", api=FakeApi([]))
    with pytest.raises(StudyError, match="no W&B run with a trial record"):
        load_wandb("me/dasip", api=FakeApi([]))


def test_a_failing_wandb_api_is_a_clear_error():
    class Down:
        def runs(self, path, filters=None):
            raise ConnectionError("no route to api.wandb.ai")

    with pytest.raises(StudyError, match="cannot read the W&B runs of me/dasip: ConnectionError"):
        load_wandb("me/dasip", api=Down())
