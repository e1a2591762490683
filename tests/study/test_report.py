"""The report: every file, index.md, and clear messages where a study is too small."""

from __future__ import annotations

import pandas as pd
import pytest

from dasip.study import ReportOptions, build_report, load_records, render_report, write_report
from dasip.study.report import main

from .conftest import make_record, markdown_rows, write

REPORT_FILES = [
    "index.md",
    *(f"{stem}.{ext}" for stem in ("table", "table_nondegenerate", "correlations")
      for ext in ("md", "csv", "tex")),
]  # fmt: skip


def test_report_of_the_hand_study(hand_study, tmp_path):
    out = tmp_path / "report"
    notes: list[str] = []
    report = write_report(load_records(hand_study), out, ReportOptions(n_boot=100), notes.append)
    for name in REPORT_FILES:
        assert (out / name).is_file(), name
    # one scatter per (method, space, data, hparams) with trials holding both PSNRs: das only
    assert sorted(p.name for p in (out / "scatter").iterdir()) == [
        "das-sequential-blur-H1.png", "das-sequential-blur-H1.svg",
    ]  # fmt: skip
    arch = sorted(p.name for p in (out / "arch").iterdir())
    assert arch == [
        f"{m}-sequential-{o}-blur-H1_{r}.png"
        for m, o in (("das", "all"), ("das", "good"), ("fixed", "all")) for r in ("best", "worst")
    ]  # fmt: skip
    index = (out / "index.md").read_text()
    for p in report.files:  # index.md links every file it wrote
        assert f"]({p.relative_to(out)})" in index
    assert "![das · sequential · blur · H1](scatter/das-sequential-blur-H1.png)" in index
    assert "![Architecture PSNR per setting](psnr.png)" in index
    # NaN / diverged trials are reported, not dropped
    assert any("2 trial(s) have no architecture PSNR (diverged: 1, failed: 1)" in n for n in notes)
    assert ["das", "sequential", "all", "blur", "H1", "27.00", "21.90", "25.00", "7.50"] in [
        row[:9] for row in markdown_rows(index)
    ]
    table_md = (out / "table.md").read_text()
    table_rows = markdown_rows(table_md)
    assert table_rows == markdown_rows(index)[: len(table_rows)]  # the index shows table.md
    assert table_rows[0][:6] == ["method", "space", "ops", "data", "hparams", "max"]
    align = table_md.splitlines()[1].strip("|").split("|")  # text left, numbers right
    assert align[0].startswith(":") and align[5].endswith(":") and not align[5].startswith(":")
    table = pd.read_csv(out / "table.csv")
    assert list(table["trials"]) == [7, 4, 2]
    assert (out / "table.tex").read_text().count("\\\\") == 4  # header and three rows
    corr = pd.read_csv(out / "correlations.csv")
    assert len(corr) == 6 and corr["pearson_boot"].max() > 0


def test_cli_no_records(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "dasip-report: error: no trial records (record.json) found under" in err
    assert "Traceback" not in err


def test_cli_one_trial_per_setting_still_writes_the_table(tmp_path, capsys):
    for i, ops in enumerate(("all", "good")):
        write(tmp_path / "runs", f"{i}", make_record(seed=0, ops=ops, one_shot=20.0, arch=25.0))
    assert main([str(tmp_path / "runs"), "--out", str(tmp_path / "r"), "--n-boot", "10"]) == 0
    err = capsys.readouterr().err
    assert "no setting has 3 or more trials with both PSNRs (at most 1)" in err
    index = (tmp_path / "r" / "index.md").read_text()
    assert (
        "no correlation is computed" in index
        and "1 pair(s): a correlation needs at least 3" in index
    )
    assert (tmp_path / "r" / "table.md").is_file()
    assert (tmp_path / "r" / "arch" / "das-sequential-all-blur-H1_best.png").is_file()


def test_cli_no_one_shot_psnr(tmp_path, capsys):
    for seed in range(4):
        write(tmp_path, f"{seed}", make_record(seed=seed, method="fixed", arch=20.0 + seed))
    assert main([str(tmp_path), "--n-boot", "10"]) == 0
    err = capsys.readouterr().err
    assert "no trial has a one-shot PSNR (method: fixed); there is nothing to correlate" in err
    out = tmp_path / "report"  # default: PATH/report
    assert (out / "table.csv").is_file() and not (out / "scatter").exists()
    assert "No scatter plot" in (out / "index.md").read_text()


def test_cli_bad_arguments_are_messages(tmp_path, capsys):
    write(tmp_path, "0", make_record(seed=0, arch=20.0))
    assert main([str(tmp_path), "--by", "method,colour"]) == 2
    assert "--by 'colour' is neither" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2
    assert "give one or more PATHs" in capsys.readouterr().err


def test_cli_wandb(hand_study, tmp_path, monkeypatch, capsys):
    """--wandb reads W&B runs (only wandb.Api mocked) and writes the same table."""
    import wandb

    from .test_records import FakeApi, _wandb_run_of

    folder = load_records(hand_study)
    from dasip.record import TrialRecord

    runs = []
    for i, r in enumerate(folder.to_dict("records")):
        rec = TrialRecord(**{k: v for k, v in r.items() if k in TrialRecord.__dataclass_fields__})
        runs.append(_wandb_run_of(rec, i))
    monkeypatch.setattr(wandb, "Api", lambda: FakeApi(runs))
    out = tmp_path / "wb"
    assert main(["--wandb", "me/dasip", "--out", str(out), "--n-boot", "50"]) == 0
    assert "13 trial(s)" in capsys.readouterr().out
    write_report(folder, tmp_path / "folder", ReportOptions(n_boot=50))
    assert (out / "table.csv").read_text() == (tmp_path / "folder" / "table.csv").read_text()
    index = (out / "index.md").read_text()
    assert "`wandb:me/dasip`" in index
    assert "13 W&B run(s) rebuilt from their summary and config" in index


def test_cli_wandb_from_trial_artifacts_draws_what_the_folders_draw(
    hand_study, tmp_path, monkeypatch
):
    """Runs that kept their record.json as a trial artifact: the report equals the folder's,
    figures from the record's extra data (the Hessian trajectories) included."""
    import json

    import wandb

    from .test_records import FakeApi, _artifact_run

    files = sorted(hand_study.rglob("record.json"))
    for n, f in enumerate(files):
        rec = json.loads(f.read_text())
        rec["extra"] = {"hessian_eigenvalues": [1.0 + n, 2.0 + n, 3.0 * n]}
        f.write_text(json.dumps(rec))
    runs = [_artifact_run(f, i) for i, f in enumerate(files)]
    monkeypatch.setattr(wandb, "Api", lambda: FakeApi(runs))
    out = tmp_path / "wb"
    assert main(["--wandb", "me/dasip", "--out", str(out), "--n-boot", "50"]) == 0
    assert main([str(hand_study), "--out", str(tmp_path / "folder"), "--n-boot", "50"]) == 0
    assert (out / "table.csv").read_text() == (tmp_path / "folder" / "table.csv").read_text()
    hessian = [
        pd.read_csv(d / "hessian.csv").drop(columns="source") for d in (out, tmp_path / "folder")
    ]
    assert len(hessian[0]) == 3 * 13 and hessian[0].equals(hessian[1])  # 13 trials, 3 epochs
    assert "rebuilt from their summary" not in (out / "index.md").read_text()


def test_building_writes_nothing_and_rendering_writes_what_was_built(
    hand_study, tmp_path, monkeypatch
):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    built = build_report(load_records(hand_study), ReportOptions(n_boot=20, pictures=False))
    assert list(cwd.iterdir()) == []  # built in memory: frames and figures
    assert [s.keys for s in built.scatters] == [
        {"method": "das", "space": "sequential", "data": "blur", "hparams": "H1"}
    ]
    assert len(built.picks) == 6 and all(p.figure is None for p in built.picks)
    report = render_report(built, tmp_path / "r")
    assert report.notes == built.notes
    assert not (tmp_path / "r" / "arch").exists()
    written = pd.read_csv(report.tables["table"]["csv"])
    assert list(written["trials"]) == list(built.table["trials"]) == [7, 4, 2]
    assert list(written["mean"]) == pytest.approx(list(built.table["mean"]))
    assert sorted(p.relative_to(tmp_path / "r").as_posix() for p in report.files) == sorted(
        [
            *REPORT_FILES[1:],
            "psnr.png",
            "psnr.svg",
            "scatter/das-sequential-blur-H1.png",
            "scatter/das-sequential-blur-H1.svg",
        ]
    )


def test_one_options_object_steers_every_part_of_the_report(hand_study, tmp_path):
    options = ReportOptions(by="method,ops", min_pairs=6, n_boot=20, degenerate_db=24.5)
    report = write_report(load_records(hand_study), tmp_path / "r", options)
    assert any(
        "no setting has 6 or more trials with both PSNRs (at most 5)" in n for n in report.notes
    )
    corr = pd.read_csv(report.tables["correlations"]["csv"])
    assert list(corr.columns[:3]) == ["method", "ops", "subset"]
    assert set(corr["note"].dropna()) >= {"5 pair(s): a correlation needs at least 6"}
    table = pd.read_csv(report.tables["table"]["csv"])
    assert list(table["degenerate"]) == [2, 0, 2]  # das/all: 24.0 and 7.5 below 24.5 dB
    index = report.index.read_text()
    assert "A correlation needs at least 6 pairs" in index and "< 24.5 dB" in index
    assert "13 trial(s) in 3 setting(s) (one per `method`, `ops`)" in index


def test_cli_options_are_checked(tmp_path, capsys):
    write(tmp_path, "0", make_record(seed=0, arch=20.0))
    for args, message in (
        (["--n-boot", "0"], "--n-boot 0: must be at least 1"),
        (["--ci", "1.5"], "--ci 1.5: must be between 0 and 1"),
        (["--min-pairs", "1"], "--min-pairs 1: must be at least 2"),
        (["--by", "method,method"], "--by method,method: a key is named twice"),
        (
            ["--by", "method,ops", "--compare", "data"],
            "--compare 'data' is not one of the --by keys; allowed: method, ops",
        ),
        (
            ["--compare", "colour"],
            "--compare 'colour' is not one of the --by keys; allowed: method",
        ),
    ):
        with pytest.raises(SystemExit) as e:
            main([str(tmp_path), *args])
        assert e.value.code == 2
        assert f"dasip-report: error: {message}" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()


def test_cli_compare_writes_the_comparisons_and_changes_nothing_else(
    compare_study, tmp_path, capsys
):
    out, plain = tmp_path / "cmp", tmp_path / "plain"
    common = [str(compare_study), "--by", "method,ops", "--n-boot", "200", "--no-pictures"]
    assert main([*common, "--out", str(out), "--compare", "method"]) == 0
    assert main([*common, "--out", str(plain)]) == 0
    for ext in ("csv", "md", "tex"):
        assert (out / f"comparisons.{ext}").is_file() and not (
            plain / f"comparisons.{ext}"
        ).exists()
    for name in REPORT_FILES[1:]:  # without --compare: the same files, the same bytes
        assert (out / name).read_bytes() == (plain / name).read_bytes(), name

    comp = pd.read_csv(out / "comparisons.csv", keep_default_na=False, na_values=[""])
    assert len(comp) == 8  # (all: das-random) + (good: das-fixed, das-random, fixed-random), x2
    row = comp[(comp["ops"] == "all") & (comp["subset"] == "all")].iloc[0]
    assert (row["a"], row["b"], row["n_a"], row["n_b"]) == ("das", "random", 5, 5)
    assert row["mannwhitney_p"] == pytest.approx(2 / 252) and row["prob_superiority"] == 1.0

    index = (out / "index.md").read_text()
    heads = [line for line in index.splitlines() if line.startswith("## ")]
    assert (
        heads.index("## Comparisons (`method`)")
        == heads.index("## One-shot vs architecture PSNR") + 1
    )
    assert "`P(a>b)` the chance that a trial of `a` beats one of `b`" in index
    assert "[CSV](comparisons.csv)" in index and "](comparisons.tex)" in index
    section = index.split("## Comparisons (`method`)")[1].split("\n## ")[0]
    md = (out / "comparisons.md").read_text()
    assert markdown_rows(section) == markdown_rows(md)  # the index shows comparisons.md
    rows = markdown_rows(md)
    assert rows[0] == [
        "ops", "subset", "a", "b", "n_a", "n_b", "median_a", "median_b", "diff [95% CI]",
        "P(a>b)", "p", "p (Holm)", "p (BH)", "note",
    ]  # fmt: skip
    assert rows[1][:8] == ["all", "all", "das", "random", "5", "5", "26.50", "19.00"]
    # two p-values in the family of subset `all`: Holm doubles the smaller, as does BH
    assert rows[1][8].startswith("7.50 [") and rows[1][9:13] == ["1.00", "0.0079", "0.016", "0.016"]
    assert row["mannwhitney_p_holm"] == pytest.approx(4 / 252) and row["p_family_size"] == 2
    assert "within all the comparisons of the same subset" in index
    assert rows[3][-1] == "1 trial(s) of fixed: a comparison needs at least 2 on each side"
    assert "Comparisons" not in (plain / "index.md").read_text()
    assert "comparisons" not in capsys.readouterr().err


def test_cli_p_family_and_bca_interval(compare_study, tmp_path):
    out, plain = tmp_path / "bca", tmp_path / "plain"
    common = [str(compare_study), "--by", "method,ops", "--n-boot", "200", "--no-pictures"]
    assert main([*common, "--out", str(plain), "--compare", "method"]) == 0
    flags = ["--compare", "method", "--p-family", "report", "--diff-ci", "bca"]
    assert main([*common, "--out", str(out), *flags]) == 0
    comp = pd.read_csv(out / "comparisons.csv")
    base = pd.read_csv(plain / "comparisons.csv")
    assert comp["mannwhitney_p"].equals(base["mannwhitney_p"])  # the test is the same
    assert set(comp["p_family_size"].dropna()) == {4} and set(base["p_family_size"].dropna()) == {2}
    scored = comp["mannwhitney_p"].notna()
    assert scored.sum() == 4
    assert (comp["mannwhitney_p_holm"] >= base["mannwhitney_p_holm"])[scored].all()
    assert comp["mannwhitney_p_holm"][0] == pytest.approx(4 * 2 / 252)  # the least of 4
    assert not comp["diff_lo"].equals(base["diff_lo"])  # another interval
    assert markdown_rows((out / "comparisons.md").read_text())[0][8] == "diff [95% BCa CI]"
    index = (out / "index.md").read_text()
    assert "95% BCa bootstrap interval" in index and "`--p-family report`" in index
    for name in REPORT_FILES[1:]:  # the flags touch the comparisons only
        assert (out / name).read_bytes() == (plain / name).read_bytes(), name


def test_comparison_notes_when_there_is_nothing_to_compare(compare_study, tmp_path):
    df = load_records(compare_study)
    alone = df[df["method"] == "das"]  # one method: no pair in any op set
    built = build_report(alone, ReportOptions(by="method,ops", compare="method", n_boot=10))
    assert built.comparisons is not None and built.comparisons.empty
    assert (
        "no group of the other --by keys (ops) has two values of `method`: there is nothing to "
        "compare" in built.notes
    )
    fixed = df[(df["method"] != "random") & (df["ops"] == "good")].copy()
    fixed = pd.concat([fixed[fixed["method"] == "fixed"], fixed[fixed["method"] == "das"][:1]])
    built = build_report(fixed, ReportOptions(by="method", compare="method", n_boot=10))
    assert len(built.comparisons) == 2 and (built.comparisons["n_a"] == 1).all()
    assert any(
        "no pair of `method` values has 2 or more scored trials on each side" in n
        for n in built.notes
    )
    report = render_report(built, tmp_path / "r")
    assert report.tables["comparisons"]["md"].is_file()
