"""Results files: a study's records as JSON lines, read by the report, resumed from by a rerun."""

from __future__ import annotations

import json

import pytest

from dasip.record import RECORD_FILE, job_key, read_record
from dasip.study import load_records
from dasip.study.results import export, main, merge, read_results

from ..conftest import FAST
from ..e2e.test_entry_points import _run
from .conftest import make_record


def _rows(df):
    return sorted(zip(df["job_key"], df["arch_psnr"].fillna(-1), df["status"], strict=True))


def test_export_holds_every_job_once_and_the_report_reads_it(hand_study, tmp_path):
    out = tmp_path / "results" / "study.jsonl"
    changed, total = export(out, [hand_study])
    folder = load_records(hand_study)
    assert (changed, total) == (len(folder), len(folder))
    from_file = load_records(out)
    assert _rows(from_file) == _rows(folder)
    assert from_file["source"].iloc[0].startswith(f"{out}:")
    assert export(out, [hand_study]) == (0, total)  # nothing new: the file is unchanged
    lines = out.read_text().splitlines()
    assert len(lines) == total and all(json.loads(line)["config"] for line in lines)


def test_merge_keeps_the_newest_and_never_a_failure_over_a_finished_trial():
    ok = make_record(seed=0, arch=20.0, created="2026-01-01T00:00:00+00:00").to_dict()
    newer = dict(ok, arch_psnr=21.0, created="2026-02-01T00:00:00+00:00")
    failed = dict(ok, status="failed", arch_psnr=None, created="2026-03-01T00:00:00+00:00")
    other = make_record(seed=1, arch=19.0).to_dict()
    assert [r["arch_psnr"] for r in merge([ok], [newer, failed, other])] == [21.0, 19.0]
    assert merge([failed], [ok]) == [ok]


def test_a_bad_line_is_named(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(make_record(seed=0).to_dict()) + "\n[1, 2]\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a JSON record"):
        list(read_results(bad))
    assert main(["export", str(tmp_path / "out.jsonl"), str(bad)]) == 2
    assert capsys.readouterr().err.startswith("dasip: error:")
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path / "out.json"), str(bad)])


def test_a_rerun_resumes_from_a_results_file(tmp_path):
    """The grid's records, committed as a results file, survive the loss of its sweep folder:
    a rerun in a new folder with resume_from= runs only the jobs the file does not hold, and
    the skipped jobs' records are those of the file."""
    first = tmp_path / "first"
    _run("search.py", ["-m", f"hydra.sweep.dir={first}", "seed=range(2)", "epochs=1"], tmp_path)
    results = tmp_path / "results.jsonl"
    assert export(results, [first]) == (2, 2)
    held = {rec["seed"]: rec for _, rec in read_results(results)}

    again = tmp_path / "again"
    out = _run(
        "search.py",
        ["-m", f"hydra.sweep.dir={again}", "seed=range(3)", "epochs=1", f"resume_from=[{results}]"],
        tmp_path,
    )
    assert out.stdout.count("already done") == 2
    recs = {r["seed"]: r for r in (read_record(p.parent) for p in again.glob(f"*/{RECORD_FILE}"))}
    assert sorted(recs) == [0, 1, 2]
    for seed in (0, 1):
        assert recs[seed]["created"] == held[seed]["created"]
        assert recs[seed]["arch_psnr"] == held[seed]["arch_psnr"]
    assert job_key(recs[2]) not in {job_key(r) for r in held.values()}
    assert export(results, [again]) == (1, 3)


def test_resume_from_a_missing_file_is_an_error(tmp_path):
    import subprocess
    import sys

    from ..conftest import ROOT

    proc = subprocess.run(
        [sys.executable, str(ROOT / "search.py"), *FAST, f"hydra.run.dir={tmp_path}/run",
         f"resume_from=[{tmp_path}/nope.jsonl]"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "resume_from" in proc.stderr and "nope.jsonl" in proc.stderr
