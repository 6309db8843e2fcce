"""Windows of one read hand the contracts the same medication, diagnosis and patient arrays
every night: their views are built and digested once per loop (validate/remembered.py), and
every night's report is the one the night computes alone. Real GX throughout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from gx_tables import WINDOW_END, make_dirty_frames, make_frames
from hyposcreen.validate import docs, gx_pages, remembered, run
from hyposcreen.validate import gx as v
from hyposcreen.validate.remembered import frame_identity, remembering_results


def _identity(frame: pd.DataFrame) -> Any:
    return frame_identity(frame, [])


def test_the_same_arrays_have_one_identity_and_any_other_array_another() -> None:
    labs = make_frames()["labs"]
    held: list[Any] = []
    identity = frame_identity(labs, held)
    assert identity is not None and held  # the arrays named are held by the caller
    assert _identity(labs.copy(deep=False)) == identity  # a new frame over the same arrays
    assert _identity(labs[list(labs.columns)]) == identity
    assert _identity(labs.copy()) != identity  # equal values, other arrays
    changed = labs.copy(deep=False)
    changed.loc[changed.index[0], "value_num"] = -1.0  # copy-on-write: a new array
    assert _identity(changed) != identity and _identity(labs) == identity
    assert _identity(labs.iloc[1:]) != identity  # a slice of the same buffers
    assert _identity(labs.rename(columns={"unit": "units"})) != identity
    assert _identity(labs.set_axis(labs.index + 1)) != identity
    text = labs.assign(unit=labs["unit"].astype("category"))
    other = text.assign(unit=text["unit"].cat.rename_categories(lambda c: c + "x"))
    assert _identity(text) == _identity(text.copy(deep=False))
    assert _identity(other) != _identity(text)  # same codes, other categories


def test_an_array_held_in_a_way_not_read_has_no_identity() -> None:
    frame = pd.DataFrame({"a": pd.array([1, None], dtype="Int64")})  # masked: not read here
    assert _identity(frame) is None
    codes = pa.array(["x", "y", "x"]).dictionary_encode()
    frame = pd.DataFrame({"a": pd.Series(pd.arrays.ArrowExtensionArray(codes))})
    assert _identity(frame) is None  # a dictionary's values are not in its buffers


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    table_view = run.table_view

    def counted(table: str, *args: Any, **kwargs: Any) -> Any:
        built.append(table)
        return table_view(table, *args, **kwargs)

    monkeypatch.setattr(run, "table_view", counted)
    return built


def test_a_loop_builds_a_view_once_its_frames_arrays_repeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Night 1 is counted, night 2 (same row count) kept, nights 3 and 4 reuse the view of
    the same arrays; a frame of new arrays (equal values) is built again; every night's
    outcomes are those of a lone run; leaving the loop forgets."""
    built = _counting(monkeypatch)
    frames = make_dirty_frames()
    alone = [o.as_dict() for o in v.validate_tables(frames, window_end=WINDOW_END).outcomes]
    assert built == ["labs", "medications", "diagnoses", "patients"]  # a lone run: no memo
    assert remembered._VIEWS == {}
    nights = []
    with remembering_results():
        for night in range(5):
            built.clear()
            if night == 3:  # from now on: equal values in new arrays
                frames = {**frames, "medications": frames["medications"].copy()}
            report = v.validate_tables(frames, window_end=WINDOW_END)
            nights.append((list(built), [o.as_dict() for o in report.outcomes]))
    everything = ["labs", "medications", "diagnoses", "patients"]
    assert [b for b, _ in nights] == [everything, everything, [], ["medications"], []]
    assert all(outcomes == alone for _, outcomes in nights)
    assert remembered._VIEWS == {}


def test_another_suite_parameter_or_present_columns_build_the_view_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = _counting(monkeypatch)
    frames = make_frames()
    present = {name: list(frame.columns) for name, frame in frames.items()}
    with remembering_results():
        for _ in range(3):
            v.validate_tables(frames, window_end=WINDOW_END, present_columns=present)
        built.clear()
        fewer = {**present, "patients": ["patient_id"]}
        v.validate_tables(frames, window_end=WINDOW_END, present_columns=fewer)
        assert built == ["patients"]
        built.clear()
        aliases = {"icd10": "ICD-10-CM"}
        report = v.validate_tables(
            frames, window_end=WINDOW_END, present_columns=fewer, code_system_aliases=aliases
        )
        assert "diagnoses" in built  # (the aliases are a key of every table's view)
    lone = v.validate_tables(
        frames, window_end=WINDOW_END, present_columns=fewer, code_system_aliases=aliases
    )
    assert [o.as_dict() for o in report.outcomes] == [o.as_dict() for o in lone.outcomes]


def test_pages_not_rendered_again_are_the_pages_a_lone_rendering_writes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Night 3 of a loop over the same tables renders no page (suites and reused results are
    kept, their run time restamped); its Data Docs are byte for byte those GX renders for the
    same results afresh, outside any loop."""
    rendered: list[str] = []
    render = gx_pages._render

    def counted(page: Path, *args: Any) -> Any:
        rendered.append(page.name)
        return render(page, *args)

    monkeypatch.setattr(gx_pages, "_render", counted)
    written: list[Any] = []
    write_pages = run.write_pages

    def kept(validated: Any, docs_dir: Path) -> None:
        written.append(list(validated))
        write_pages(validated, docs_dir)

    monkeypatch.setattr(run, "write_pages", kept)
    frames = make_dirty_frames()
    counts = []
    with remembering_results():
        for night in range(3):
            rendered.clear()
            report = v.validate_tables(
                frames, window_end=WINDOW_END, docs_dir=tmp_path / f"night{night}"
            )
            counts.append(len(rendered))
    assert counts[0] == 8 and counts[2] == 0
    again = tmp_path / "again"
    write_pages(written[2], again)
    outcomes = [o.as_dict() for o in report.outcomes]
    docs.make_offline(again, outcomes, "hyposcreen: validation of the inputs")
    night = tmp_path / "night2"
    files = sorted(p.relative_to(night) for p in night.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert any(f.parts[0] == "validations" for f in files)
    for name in files:
        assert (night / name).read_bytes() == (again / name).read_bytes(), name
    stamps = {p.parent.name for p in (tmp_path / "night1" / "validations").rglob("*.html")}
    assert stamps and stamps != {p.parent.name for p in (night / "validations").rglob("*.html")}
