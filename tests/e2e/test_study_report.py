"""A real tiny multirun (2 seeds x 2 op sets), then its report, as a user runs them."""

import subprocess
import sys

from ..conftest import FAST, ROOT


def test_report_of_a_real_tiny_multirun(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "search.py"), "-m", *FAST, f"hydra.sweep.dir={sweep}",
         "seed=range(2)", "ops=good,all"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(list(sweep.glob("*/record.json"))) == 4

    proc = subprocess.run(
        [sys.executable, str(ROOT / "report.py"), str(sweep), "--n-boot", "100"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    # 2 trials per setting: no correlation, said clearly, everything else written
    assert "no setting has 3 or more trials with both PSNRs (at most 2)" in proc.stderr
    out = sweep / "report"
    expected = [
        "index.md",
        *(f"{s}.{e}" for s in ("table", "table_nondegenerate", "correlations")
          for e in ("md", "csv", "tex")),
        "psnr.png",
        "psnr.svg",
        "scatter/das-sequential-blur-H1.png",
        "scatter/das-sequential-blur-H1.svg",
        *(f"arch/das-sequential-{o}-blur-H1_{r}.png" for o in ("all", "good")
          for r in ("best", "worst")),
    ]  # fmt: skip
    for name in expected:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    index = (out / "index.md").read_text()
    assert "4 trial(s) in 2 setting(s)" in index
    for name in expected[1:]:
        assert f"]({name})" in index, name
