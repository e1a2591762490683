"""Reading records: nested folders, reruns counted once, W&B runs (API mocked at the boundary)."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest

from dasip.loggers import finish_loggers
from dasip.study import StudyError, job_key, load_records, load_wandb, mixed_settings
from dasip.study.records import RECORD_FIELDS

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


def test_unreadable_files_are_skipped_and_listed(tmp_path):
    write(tmp_path, "ok", make_record(seed=0, arch=20.0))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "record.json").write_text("{not json")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "record.json").write_text('{"hello": 1}')
    df = load_records(tmp_path)
    assert len(df) == 1
    assert sorted(p.split("/")[-2] for p, _ in df.attrs["skipped"]) == ["broken", "other"]


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


class WandbLogger:  # the name finish_loggers recognises
    def __init__(self):
        self.experiment = _Experiment()


def _wandb_run_of(record, i: int):
    """A W&B run as the trial runner leaves it: the record's fields in the summary (written by
    the project's own finish_loggers), the resolved config as the run config."""
    logger = WandbLogger()
    finish_loggers([logger], record.summary())
    summary = {**logger.experiment.summary, "_runtime": 3.0, "search/val/psnr": 12.0}
    return types.SimpleNamespace(
        summary_metrics=summary, config=record.config, id=f"run{i}",
        url=f"https://wandb.ai/me/dasip/runs/run{i}",
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
    runs.append(types.SimpleNamespace(summary_metrics={"loss": 1.0}, config={}, id="x", url="u"))
    FakeApi.calls = []
    monkeypatch.setattr(wandb, "Api", lambda: FakeApi(runs))

    df = load_wandb("me/dasip", group="das-sequential")
    assert FakeApi.calls == [("me/dasip", {"group": "das-sequential"})]
    assert len(df) == len(folder) and df.attrs["skipped"] == [
        ("u", "no trial record in the run summary")
    ]
    cols = ["method", "ops", "seed", "status", "genotype", "one_shot_psnr", "arch_psnr", "job_key"]
    a = folder[cols].sort_values(["method", "ops", "seed"]).reset_index(drop=True)
    b = df[cols].sort_values(["method", "ops", "seed"]).reset_index(drop=True)
    assert a.equals(b)


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
