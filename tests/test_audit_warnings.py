"""`hyposcreen audit` warns as a run does (exit 4): a month whose extract writes its units, its
results or its LOINC codes so that rows are lost gives a low QI count, and must say so.

Each month is judged for the warnings a run of it would give (recipe_publish.run_warnings):
they are listed with their month under `warnings` in audit_manifest.json and at the top of
audit.html, printed on stderr, and the command exits 4; counts and `file:row` only. The
sample's November, screened whole, warns of nothing. Real CLI, copies of the sample.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import SAMPLE


def audit(folder: Path) -> tuple[int, dict, str]:
    """Exit status, audit_manifest.json and audit.html of auditing November 2026."""
    out = folder.parent / f"{folder.name}_audit"
    period = ["--start", "2026-11-01", "--end", "2026-12-01", "--out", str(out)]
    status = main(["audit", "--input", str(folder), *period])
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    return status, manifest, (out / "audit.html").read_text("utf-8")


def rewritten(tmp_path: Path, column: str, value: str | None = None) -> tuple[Path, set[str]]:
    """A copy of the sample whose 2951-2 sodium rows have `column` rewritten: `value`, or
    (value_raw) the number with the laboratory's low flag after it; and the texts written."""
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    sodium = frame["loinc"] == "2951-2"
    frame.loc[sodium, column] = value if value is not None else frame.loc[sodium, column] + " L"
    frame.to_csv(folder / "labs.csv", index=False)
    return folder, set(frame.loc[sodium, column])


def test_the_sample_s_month_warns_of_nothing(tmp_path: Path) -> None:
    status, manifest, html = audit(Path(shutil.copytree(SAMPLE, tmp_path / "sample")))
    assert status == 0
    assert manifest["warnings"] == []
    assert "audit-warnings" not in html


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [("unit", "mval/l", "unknown_units"), ("value_raw", None, "result_flags")],
    ids=["unknown_units", "result_flags"],
)
def test_a_month_losing_its_sodium_results_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str, value: str | None, code: str
) -> None:
    folder, written = rewritten(tmp_path, column, value)
    status, manifest, html = audit(folder)
    assert status == 4
    (found,) = [w for w in manifest["warnings"] if w["code"] == code]
    assert found["period"] == "2026-11"
    assert found["message"].startswith("[2026-11] ")
    assert "labs.csv:2" in found["message"]  # file:row, never a value
    told = json.dumps(manifest["warnings"])
    assert written and not [text for text in written if text in told]
    assert "audit-warnings" in html
    assert f"hyposcreen: warning: {found['message']}" in capsys.readouterr().err
