"""The record has one writer: whoever adds to a trial's outcome hands it to the trial, so the
record on disk and the W&B summary always agree."""

from dasip.record import read_record
from dasip.trial import run_trial

from ..conftest import compose_cfg


def test_a_finalizer_changes_the_record_and_the_logger_summary_alike(tmp_path, monkeypatch):
    from dasip import loggers
    from dasip import record as record_module

    writes, summaries = [], []
    real_write = record_module.TrialRecord.write
    real_finish = loggers.finish_loggers

    def counting_write(self, run_dir):
        writes.append(self.status)
        return real_write(self, run_dir)

    def capturing_finish(lgs, summary, files=()):  # what W&B's run summary receives
        summaries.append(dict(summary))
        return real_finish(lgs, summary, files)

    monkeypatch.setattr(record_module.TrialRecord, "write", counting_write)
    monkeypatch.setattr(loggers, "finish_loggers", capturing_finish)

    def finalize(record):  # what the HPO job does with a NaN objective
        record.status, record.error = "failed", "one_shot_psnr is nan"
        record.extra["hpo"] = {"state": "FAIL"}

    cfg = compose_cfg(overrides=["logger=wandb", "logger.wandb.mode=offline", "study=unit"])
    rec = run_trial(cfg, tmp_path, finalize=finalize)
    assert writes == ["failed"]  # written once, after the finalizer
    on_disk = read_record(tmp_path)
    assert (
        on_disk["status"] == rec.status == "failed" and on_disk["extra"]["hpo"]["state"] == "FAIL"
    )
    (summary,) = summaries
    assert summary["status"] == "failed" and summary["error"] == "one_shot_psnr is nan"
    assert summary == rec.summary()


def test_a_finalizer_that_raises_does_not_lose_the_record(tmp_path):
    def finalize(record):
        raise RuntimeError("storage gone")

    rec = run_trial(compose_cfg(), tmp_path, finalize=finalize)
    on_disk = read_record(tmp_path)
    assert on_disk["status"] == rec.status == "ok"
    assert on_disk["extra"]["finalize_error"] == "RuntimeError: storage gone"
