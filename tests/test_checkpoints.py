"""Phase checkpoints: a trial stopped mid-phase and run again in its run directory continues
from its checkpoints and ends as if it had never stopped (dasip.checkpoints)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from dasip.checkpoints import (
    CHECKPOINT_DIR,
    PhaseCheckpoint,
    checkpoint_path,
    rng_state,
    set_rng_state,
    set_torch_rng_state,
    torch_rng_state,
)
from dasip.trial import TrialContext, run_trial
from dasip.trial.compile import compile_in_place

from .conftest import compose_cfg

#: a search whose alphas move from the first step (Adam, no alpha warm-up) over all four ops,
#: so the noise op draws from torch's global stream: a resume that got the random state wrong
#: would change the PSNRs
SEARCH = [
    "epochs=4",
    "retrain_epochs=2",
    "hparams=BOHB-one-shot-Blur",
    "checkpoints.interval_s=0",
    "compile.search=false",
]


class Interrupt(pl.Callback):
    """Stops the trial when fit ``phase_index`` of ``phase`` starts epoch ``epoch`` (the
    checkpoint of the epoch before is on disk), as a kill would."""

    def __init__(self, phase: str, epoch: int, phase_index: int = 0):
        self.phase, self.epoch, self.phase_index = phase, epoch, phase_index

    def on_train_epoch_start(self, trainer, pl_module):
        if (pl_module.phase, pl_module.phase_index, trainer.current_epoch) == (
            self.phase, self.phase_index, self.epoch
        ):  # fmt: skip
            raise RuntimeError("interrupted")


class CountSteps(pl.Callback):
    def __init__(self):
        self.steps: dict[str, int] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.steps[pl_module.phase] = self.steps.get(pl_module.phase, 0) + 1


def _outcome(rec) -> dict:
    """What a trial computed, less timings and the resume bookkeeping."""
    extra = {k: v for k, v in rec.extra.items() if k not in ("resumed_from", "threads")}
    for c in extra.get("candidates", []):
        c.pop("seconds")
    return {
        "genotype": rec.genotype, "one_shot_psnr": rec.one_shot_psnr, "arch_psnr": rec.arch_psnr,
        "alpha_probs": rec.alpha_probs, "status": rec.status, "extra": extra,
    }  # fmt: skip


def _stopped_then_rerun(tmp_path, overrides, interrupt, callbacks=()):
    cfg = compose_cfg(overrides=SEARCH + overrides)
    first = run_trial(cfg, tmp_path, callbacks=[interrupt])
    assert first.status == "failed" and "interrupted" in first.error
    ckpt = checkpoint_path(tmp_path, interrupt.phase, interrupt.phase_index)
    assert ckpt.is_file(), "a failed trial keeps its checkpoints for the retry"
    return run_trial(compose_cfg(overrides=SEARCH + overrides), tmp_path, callbacks=list(callbacks))


@pytest.mark.parametrize("variant", ["darts", "sdarts_rs"])
def test_a_trial_stopped_mid_search_resumes_to_the_uninterrupted_result(tmp_path, variant):
    overrides = [f"method.variant={variant}"]
    whole = run_trial(compose_cfg(overrides=SEARCH + overrides), tmp_path / "whole")
    resumed = _stopped_then_rerun(tmp_path / "stopped", overrides, Interrupt("search", 2))
    assert resumed.extra["resumed_from"] == {
        "search": {"epochs_done": 2, "epochs": 4, "seconds_before": pytest.approx(
            resumed.extra["resumed_from"]["search"]["seconds_before"])}
    }  # fmt: skip
    assert resumed.extra["resumed_from"]["search"]["seconds_before"] > 0
    assert _outcome(resumed) == _outcome(whole)
    # a finished trial deletes its checkpoints (checkpoints.keep=false)
    assert not (tmp_path / "stopped" / CHECKPOINT_DIR).exists()


def test_a_finished_search_is_restored_not_trained_again(tmp_path):
    whole = run_trial(compose_cfg(overrides=SEARCH), tmp_path / "whole")
    steps = CountSteps()
    resumed = _stopped_then_rerun(
        tmp_path / "stopped", ["checkpoints.keep=true"], Interrupt("retrain", 1), [steps]
    )
    assert steps.steps == {"retrain": 3}  # 1 of the 2 retraining epochs of 3 batches; no search
    assert resumed.extra["resumed_from"]["search"]["epochs_done"] == 4
    assert resumed.extra["resumed_from"]["retrain"]["epochs_done"] == 1
    assert _outcome(resumed) == _outcome(whole)
    assert (tmp_path / "stopped" / CHECKPOINT_DIR / "search.ckpt").is_file()  # keep=true


def test_random_search_restores_its_finished_candidates_and_resumes_the_stopped_one(tmp_path):
    method = ["method=random_search", "method.k=3", "retrain_epochs=3"]
    whole = run_trial(compose_cfg(overrides=SEARCH + method), tmp_path / "whole")
    steps = CountSteps()
    resumed = _stopped_then_rerun(
        tmp_path / "stopped", method, Interrupt("candidates", 1, phase_index=2), [steps]
    )
    assert steps.steps == {"candidates": 6}  # the last 2 epochs of candidate 2 only
    assert {k: v["epochs_done"] for k, v in resumed.extra["resumed_from"].items()} == {
        "candidates": 3, "candidates/1": 3, "candidates/2": 1
    }  # fmt: skip
    assert _outcome(resumed) == _outcome(whole)


@pytest.mark.parametrize(
    "rerun", [["epochs=5"], ["resume=false"], ["checkpoints.save=false"]], ids=str
)
def test_a_checkpoint_is_used_only_by_the_same_job_with_resume_on(tmp_path, rerun):
    cfg = compose_cfg(overrides=SEARCH)
    assert run_trial(cfg, tmp_path, callbacks=[Interrupt("search", 2)]).status == "failed"
    again = run_trial(compose_cfg(overrides=SEARCH + rerun), tmp_path)
    assert again.status == "ok" and "resumed_from" not in again.extra


def test_a_checkpoint_of_another_architecture_is_not_resumed(tmp_path):
    """A fit number names another architecture in a rerun of ground truth (it numbers the
    architectures still to train): the network's identity is checked too."""
    ctx = TrialContext(compose_cfg(overrides=SEARCH), tmp_path)
    trained = ctx.train_architecture(ctx.space.parse("grad*10"), epochs=1)
    key = ctx._job_key
    same = PhaseCheckpoint(tmp_path, key, trained.module, 0)
    assert same.resumable() is not None and same.resumable()["epochs_done"] == 1
    other = ctx.space.derived(ctx.op_context(), ctx.space.parse("net*10"))
    trained.module.net = other
    assert PhaseCheckpoint(tmp_path, key, trained.module, 0).resumable() is None
    assert PhaseCheckpoint(tmp_path, "another job", trained.module, 0).resumable() is None


def test_a_broken_checkpoint_is_ignored(tmp_path):
    cfg = compose_cfg(overrides=SEARCH)
    assert run_trial(cfg, tmp_path, callbacks=[Interrupt("search", 2)]).status == "failed"
    checkpoint_path(tmp_path, "search").write_bytes(b"not a checkpoint")
    again = run_trial(compose_cfg(overrides=SEARCH), tmp_path)
    assert again.status == "ok" and "resumed_from" not in again.extra


def test_the_checkpoints_are_written_every_interval_and_at_the_last_epoch(tmp_path, monkeypatch):
    saves = []
    real = PhaseCheckpoint.save

    def save(self, trainer):
        saves.append((self.phase, trainer.current_epoch))
        real(self, trainer)

    monkeypatch.setattr(PhaseCheckpoint, "save", save)
    run_trial(compose_cfg(overrides=[*SEARCH, "checkpoints.interval_s=3600"]), tmp_path / "hour")
    assert saves == [("search", 3), ("retrain", 1)]  # within the hour: the last epochs only
    saves.clear()
    run_trial(compose_cfg(overrides=SEARCH), tmp_path / "every")
    assert saves == [("search", e) for e in range(4)] + [("retrain", e) for e in range(2)]


def test_the_random_state_round_trips_and_loads_as_weights_only(tmp_path):
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    state = rng_state()
    torch.save(state, tmp_path / "rng.pt")
    first = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(5), np.random.seed(5), random.seed(5)
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(first[0], again[0])
    assert np.array_equal(first[1], again[1]) and first[2] == again[2]


def test_the_torch_random_state_is_restored_and_the_others_left_alone():
    torch.manual_seed(1)
    state = torch_rng_state()
    assert set(state) <= {"torch", "cuda"}  # torch's generators only: numpy's and Python's
    first = torch.rand(3)  # are not saved or restored
    np.random.seed(4)
    set_torch_rng_state(state)
    assert torch.equal(torch.rand(3), first)
    np.random.seed(4)
    expected = np.random.rand(3)
    np.random.seed(4)
    set_torch_rng_state(state)
    assert np.array_equal(np.random.rand(3), expected)


def test_the_data_streams_continue_from_a_checkpoint():
    ctx = TrialContext(compose_cfg(overrides=SEARCH), "unused")
    dm = ctx.data
    streams = dm.streams()
    streams["train"].next()
    state = dm.state_dict()
    expected = streams["train"].next()
    dm.load_state_dict(state)
    continued = dm.streams()["train"].next()
    assert all(torch.equal(a, b) for a, b in zip(expected, continued, strict=True))
    fresh = dm.streams()["train"].next()  # a later fit starts afresh
    assert not torch.equal(fresh[0], continued[0])


def test_a_compiled_network_has_the_uncompiled_state_dict_keys():
    """Fits compile their blocks in place (``module.compile()``), so a checkpoint of a compiled
    search loads into an eager one and back (``compile`` is not part of the job)."""
    ctx = TrialContext(compose_cfg(overrides=SEARCH), "unused")
    net = ctx.space.supernet(ctx.op_context(), ctx.op_names)
    keys = list(net.state_dict())
    compile_in_place(net)  # lazy: nothing is compiled before a forward pass
    assert list(net.state_dict()) == keys
