"""The site's own files as a Windows editor saves them. A lab dictionary CSV saved by Excel on
Windows (Windows-1252: `Sodium sérique – ISE`) stopped every night as an internal error
(exit 70); it is read as Windows-1252, as the extract's CSVs and the review file are, and its
accented names match. A mapping YAML saved as ANSI (a status word `zurückgezogen` in
Windows-1252) also stopped with exit 70; it now stops as a settings error (exit 2) that says to
save it as UTF-8, for YAML is UTF-8 and guessing would read its words wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SITE = Path(__file__).resolve().parents[1] / "sample_data" / "site_example"
CANONICAL = SITE.parent / "canonical"
DAY = "2026-11-20"


def _run(folder: Path, mapping: Path, out: Path) -> int:
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out)]
    return main([*argv, "--window-start", DAY, "--mapping", str(mapping)])


def test_a_windows_1252_lab_dictionary_is_read(tmp_path: Path) -> None:
    site = shutil.copytree(SITE, tmp_path / "site")
    text = (site / "lab_dictionary.csv").read_text(encoding="utf-8")
    assert "NA-S,sodium\n" in text
    # the serum sodium test under an accented local name, in the extract and the dictionary
    text = text.replace("NA-S,sodium\n", "Sodium sérique – ISE,sodium\n")
    (site / "lab_dictionary.csv").write_bytes(text.encode("cp1252"))
    labs = site / "extract" / "LAB_RESULTS.csv"
    named = ";Sodium sérique – ISE;".encode("cp1252")  # the mapping says latin-1: Windows'
    labs.write_bytes(labs.read_bytes().replace(b";NA-S;", named))
    assert _run(site / "extract", site / "site_mapping.yaml", tmp_path / "out") == 0
    assert _run(SITE / "extract", SITE / "site_mapping.yaml", tmp_path / "expected") == 0
    got = pd.read_csv(tmp_path / "out" / DAY / "review_list.csv", dtype=str)
    want = pd.read_csv(tmp_path / "expected" / DAY / "review_list.csv", dtype=str)
    pd.testing.assert_frame_equal(got.drop(columns=["run_id"]), want.drop(columns=["run_id"]))


def test_a_mapping_saved_as_ansi_is_a_settings_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_bytes("site: x\nstatus_words:\n  cancelled: [zurückgezogen]\n".encode("cp1252"))
    status = _run(CANONICAL, mapping, tmp_path / "out")
    err = capsys.readouterr().err
    assert status == 2
    assert f"Mapping file {mapping} is not UTF-8 text" in err and "Save it again as UTF-8" in err
    assert "internal error" not in err


def test_a_lab_dictionary_saved_with_semicolons_is_read(tmp_path: Path) -> None:
    """Excel where the decimal is a comma (pt-BR, de-DE) saves "CSV" with `;`, as the site's
    extract is: the dictionary was refused as lacking analyte and local_name, the very names
    its header holds. The header decides the delimiter: the site example's dictionary saved
    so screens to the same list as with commas."""
    site = shutil.copytree(SITE, tmp_path / "site")
    text = (site / "lab_dictionary.csv").read_text(encoding="utf-8")
    (site / "lab_dictionary.csv").write_bytes(text.replace(",", ";").encode("cp1252"))
    assert _run(site / "extract", site / "site_mapping.yaml", tmp_path / "out") == 0
    assert _run(SITE / "extract", SITE / "site_mapping.yaml", tmp_path / "expected") == 0
    got = (tmp_path / "out" / DAY / "review_list.csv").read_bytes()
    assert got == (tmp_path / "expected" / DAY / "review_list.csv").read_bytes()
