"""A site's code list holding a number that does not read is a settings error (exit 2) naming
the file, its line and the column; one written as a spreadsheet or editor saves it is read as
the packaged one. Before, a factor `abc` named only the rules folder ("a code list holds a
value that does not read"), a factor `1/0` stopped the run as a bug (exit 70), a header
written `analyte, unit, factor` was refused for lacking the columns it reads, and a row of
empty fields left below the last (`,,`) stopped the run."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.errors import ConfigError
from hyposcreen.rules.loader import RULES_DIR, load_rules

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
UNITS = "analyte_units.csv"


def _rules(tmp_path: Path, name: str, edit: object) -> Path:
    rules = shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py"))
    path = rules / name
    path.write_bytes(edit(path.read_bytes()))  # type: ignore[operator]
    return rules


@pytest.mark.parametrize("factor", ["abc", "1/0", "nan"])
def test_a_factor_that_does_not_read_names_the_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], factor: str
) -> None:
    rules = _rules(tmp_path, UNITS, lambda b: b + f"sodium,odd,{factor},site\n".encode())
    line = len((rules / UNITS).read_text(encoding="utf-8").splitlines())
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", "2026-11-20", "--rules", str(rules)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"Rules file {rules / UNITS}, line {line}, column factor: '{factor}' does not" in err
    assert "Traceback" not in err and "internal error" not in err


def _reordered(data: bytes) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    written = io.StringIO()
    csv.writer(written, lineterminator="\r\n").writerows([row[::-1] for row in rows])
    return b"\xef\xbb\xbf" + written.getvalue().encode("utf-8")


@pytest.mark.parametrize(
    "edit",
    [
        _reordered,  # columns reversed, a byte-order mark, CRLF
        lambda b: b.replace(b",", b", ", 3).replace(b"\n", b",extra\n", 1) + b",,,\n,,,\n",
    ],
    ids=["reordered_bom_crlf", "spaced_header_extra_column_empty_rows"],
)
def test_a_code_list_saved_by_a_spreadsheet_reads_as_the_packaged_one(
    tmp_path: Path, edit: object
) -> None:
    rules = _rules(tmp_path, UNITS, edit)
    assert load_rules(rules).unit_factors == load_rules().unit_factors


@pytest.mark.parametrize("field_limit", [None, 1 << 30], ids=["csv_default", "raised"])
def test_a_quote_left_open_in_a_long_code_list_names_the_file(
    tmp_path: Path, field_limit: int | None
) -> None:
    """A `"` opened and never closed swallows the rest of the file into one value: past the
    csv module's field limit (128 KiB) that stopped the run as a bug (exit 70, csv.Error). The
    limit is the process's, and code that raised it (a site's notebook, a test reading a large
    CSV) let the value in: it was then read as a synonym of unknown ingredients. The line
    named is the one the quote opens."""
    rest = "".join(f"drug{n},furosemide\n" for n in range(12_000))
    rules = _rules(tmp_path, "drug_synonyms.csv", lambda b: b + f'"odd,x\n{rest}'.encode())
    opened_at = len((tmp_path / "rules" / "drug_synonyms.csv").read_text().splitlines()) - 12_000
    before = csv.field_size_limit(field_limit) if field_limit else None
    try:
        with pytest.raises(ConfigError, match=r"drug_synonyms\.csv, line (\d+): not a CSV") as e:
            load_rules(rules)
    finally:
        if before is not None:
            csv.field_size_limit(before)
    assert f"line {opened_at}:" in str(e.value) or field_limit is None
