"""The workbook's over-rapid correction column names its times in the site's zone, as the
evidence column beside it and the page do: a clinician reading '2026-11-20T01:00:00' in one
cell and '20 Nov 2026 01:00 UTC' in the next cannot tell which clock the first is on (spec §11:
outputs show site-local times with the zone named)."""

from __future__ import annotations

import openpyxl
import pytest

from test_golden_sample import screen_sample_once


@pytest.fixture(scope="module")
def sheet_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    night = screen_sample_once(tmp_path_factory.getbasetemp())
    sheet = openpyxl.load_workbook(night / "review_list.xlsx")["Review list"]
    header = [cell.value for cell in sheet[1]]
    return {
        str(row[2]): dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }


def test_the_pair_names_its_times_in_the_site_zone(
    sheet_rows: dict[str, dict[str, object]],
) -> None:
    # the sample's P038: 118.0 at 01:00, 127.0 at 19:00 on 20 Nov 2026 (site UTC), +9.0 > 8
    pair = sheet_rows["P038"]["Over-rapid correction (results)"]
    assert pair == (
        "118.0 at 20 Nov 2026 01:00 UTC -> 127.0 at 20 Nov 2026 19:00 UTC "
        "(+9.0 mmol/L; limit 8 per 24 h)"
    )
    assert str(sheet_rows["P038"]["Evidence"]).endswith("over-rapid correction: " + str(pair))
    assert sheet_rows["P043"]["Over-rapid correction (results)"] is None  # none: empty
