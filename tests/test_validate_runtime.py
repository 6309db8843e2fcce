"""How validation spends its time: one GX context per process reused by every window, Data
Docs rendered for the run's own results only, validated frames released, and GX imported,
its context built and its pages compiled ahead by the contracts worker's warm-up (real GX, real
files)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from tests.gx_tables import WINDOW_END, failed, make_frames
from tests.helpers import run_script

from hyposcreen.validate import context
from hyposcreen.validate import gx as v


def _validation_pages(docs: Path) -> list[Path]:
    return sorted((docs / "validations").rglob("*.html"))


def test_each_run_documents_its_own_results_in_a_process_wide_context(tmp_path: Path) -> None:
    """Two runs in one process share the context but each docs folder holds that run only:
    one validation page per table, one suite page per table, our index, GX's style sheets."""
    frames = make_frames()
    first = v.validate_tables(frames, window_end=WINDOW_END, docs_dir=tmp_path / "one")
    process_context = context._PROCESS["context"]
    frames["labs"].loc[0, "value_num"] = 10.0  # implausible: the second run differs
    second = v.validate_tables(frames, window_end=WINDOW_END, docs_dir=tmp_path / "two")
    assert context._PROCESS["context"] is process_context
    assert not failed(first, "labs", "implausible")
    assert failed(second, "labs", "implausible")[0].row_labels == [0]
    for docs in (tmp_path / "one", tmp_path / "two"):
        pages = _validation_pages(docs)
        assert [p.parent.parent.parent.name for p in pages] == sorted(v.TABLES)
        assert len({p.parent.name for p in pages}) == 1  # one run time for the run's tables
        suites = sorted(p.stem for p in (docs / "expectations").glob("*.html"))
        assert suites == sorted(v.TABLES)
        assert sorted(p.name for p in (docs / "static" / "styles").iterdir()) == [
            "data_docs_custom_styles_template.css",
            "data_docs_default_styles.css",
        ]
        assert not (docs / "static" / "fonts").exists()  # never loaded by the pages
    labs_page = next(p for p in _validation_pages(tmp_path / "two") if "labs" in p.parts)
    html = labs_page.read_text(encoding="utf-8")
    assert "value_num" in html and "failed" in html  # GX's own rendering of the failure


def test_the_validated_frames_are_released_after_a_run(tmp_path: Path) -> None:
    v.validate_tables(make_frames(), window_end=WINDOW_END, docs_dir=tmp_path / "docs")
    engine = context._PROCESS[context.SOURCE].get_execution_engine()
    assert engine.batch_manager.batch_data_cache == {}


def test_the_warm_up_imports_gx_builds_the_context_and_compiles_the_pages() -> None:
    """In a fresh interpreter, the contracts worker's first step: after it GX is imported, the
    context and batch definitions are built and the page templates compiled; validation then
    runs on them."""
    script = textwrap.dedent(
        """
        import sys
        from hyposcreen.validate import context, gx_pages, warm_up
        warm_up.prepare_contracts()
        assert "great_expectations" in sys.modules
        assert {"context", "table:labs", "table:review_list"} <= set(context._PROCESS)
        assert gx_pages._Views.page is not None
        assert gx_pages._Views.page.env.cache, "templates were not compiled"
        from tests.gx_tables import make_frames, WINDOW_END
        from hyposcreen.validate import gx as v
        report = v.validate_tables(make_frames(), window_end=WINDOW_END)
        assert report.summary()["passed"] is True
        print("ok")
        """
    )
    done = run_script(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_gx_is_imported_without_its_sql_extras_and_sqlalchemy_stays_importable() -> None:
    """SQLAlchemy (an optional GX dependency) is hidden from the GX import only: GX
    validates, and SQLAlchemy imports normally afterwards (Prefect needs it)."""
    script = textwrap.dedent(
        """
        import sys
        from hyposcreen.validate.gx_import import import_gx
        import_gx()
        assert "great_expectations" in sys.modules and "sqlalchemy" not in sys.modules
        from tests.gx_tables import make_frames, WINDOW_END
        from hyposcreen.validate import gx as v
        assert v.validate_tables(make_frames(), window_end=WINDOW_END).summary()["passed"]
        assert "sqlalchemy" not in sys.modules
        import sqlalchemy
        print(sqlalchemy.__version__)
        """
    )
    done = run_script(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("2.")


def test_scipy_stats_and_altair_load_only_when_a_gx_expectation_uses_them(tmp_path: Path) -> None:
    """GX imports scipy.stats and altair at module level for the KL-divergence expectation
    only: they are not loaded by the import nor by our validation and Data Docs, and an
    expectation that needs them still gives GX's own answer (KL divergence 0 for a column
    that matches its partition, > 0.1 for one that does not; its chart is drawn by altair)."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from hyposcreen.validate.gx_import import import_gx
        gx = import_gx()
        never = ("scipy.stats", "scipy.optimize", "altair", "altair.vegalite")
        assert not [name for name in never if name in sys.modules], sys.modules.keys()
        from tests.gx_tables import make_frames, WINDOW_END
        from hyposcreen.validate import gx as v
        report = v.validate_tables(
            make_frames(), window_end=WINDOW_END, docs_dir=Path({str(tmp_path)!r}) / "docs"
        )
        assert report.summary()["passed"]
        assert not [name for name in never if name in sys.modules]

        import pandas as pd
        context = gx.get_context(mode="ephemeral")
        asset = context.data_sources.add_pandas("p").add_dataframe_asset("a")
        batch = asset.add_batch_definition_whole_dataframe("w")
        partition = {{"values": ["a", "b"], "weights": [0.5, 0.5]}}
        expectation = gx.expectations.ExpectColumnKLDivergenceToBeLessThan(
            column="c", partition_object=partition, threshold=0.1
        )
        observed = []
        for values in (["a", "b"] * 50, ["a"] * 95 + ["b"] * 5):
            frame = pd.DataFrame({{"c": values}})
            result = batch.get_batch(batch_parameters={{"dataframe": frame}}).validate(expectation)
            assert result.exception_info.get("raised_exception") is False, result.exception_info
            observed.append((result.success, result.result["observed_value"]))
        assert observed[0] == (True, 0.0), observed
        assert observed[1][0] is False and observed[1][1] > 0.1, observed
        assert "scipy.stats._stats_py" in sys.modules  # loaded by the first use

        from great_expectations.expectations.core import (
            expect_column_kl_divergence_to_be_less_than as kl,
        )
        import altair
        assert kl.alt.Chart is altair.Chart
        chart = kl.ExpectColumnKLDivergenceToBeLessThan._get_kl_divergence_chart(partition)
        assert chart.to_json_dict()["graph"]["mark"]["type"] == "bar"
        print("ok")
        """
    )
    done = run_script(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_nothing_in_the_package_imports_sqlalchemy() -> None:
    """What makes hiding it during the background import safe: the run's main thread never
    imports SQLAlchemy (only Prefect, under flows/, does)."""
    package = Path(__file__).resolve().parents[1] / "src" / "hyposcreen"
    importing = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+sqlalchemy\b", path.read_text(encoding="utf-8"), re.M)
    ]
    assert importing == []


def test_a_deferred_module_loads_on_first_use_also_for_a_submodule_import() -> None:
    """The stand-in GX's import binds (validate/gx_import.py): nothing loads until an attribute
    is read; then the real module answers, and importing a submodule of it meanwhile (another
    thread during GX's import) works as with the real package."""
    script = textwrap.dedent(
        """
        import sys
        from hyposcreen.validate.gx_import import DeferredModule
        assert "email.mime" not in sys.modules
        stand_in = sys.modules["email.mime"] = DeferredModule("email.mime")
        assert "email.mime" in sys.modules and not hasattr(stand_in, "__wrapped__")
        import email.mime.text
        assert sys.modules["email.mime"] is not stand_in  # the real package was loaded
        assert stand_in.text is email.mime.text
        assert email.mime.text.MIMEText("x")["Content-Type"].startswith("text/plain")
        print("ok")
        """
    )
    done = run_script(script, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_gx_objects_are_left_out_of_later_collections_and_handed_back_at_exit() -> None:
    """Once Great Expectations is imported its objects are frozen out of the cyclic garbage
    collector (a full collection after it does not walk them again), and handed back at exit:
    DuckDB, used before, reports none of its objects leaked."""
    script = textwrap.dedent(
        """
        import gc
        import duckdb
        from hyposcreen.validate.gx_import import import_gx

        duckdb.sql("select 1").fetchall()
        before = gc.get_freeze_count()
        import_gx()
        gc.collect()
        print(before, gc.get_freeze_count(), len(gc.get_objects()))
        """
    )
    done = run_script(script)
    assert done.returncode == 0, done.stderr
    before, frozen, walked = (int(n) for n in done.stdout.split())
    assert before == 0 and frozen > 50_000 and walked < frozen
    assert "leaked" not in done.stderr
