"""The review list's contract keeps its row count a GX suite parameter: the suite is the same
every night, so a loop of windows builds its GX suite once, and GX still checks each night's
ranks against that night's count (real GX)."""

from __future__ import annotations

from gx_tables import VOCABULARY, make_review
from gx_tables import no_network as no_network  # (autouse: GX must not reach the network)
from hyposcreen.validate import gx as v
from hyposcreen.validate import remembered
from hyposcreen.validate.remembered import remembering_results


def test_nights_of_different_lengths_share_one_gx_suite_and_check_their_own_ranks() -> None:
    with remembering_results():
        first = v.validate_review_list(make_review(3), VOCABULARY)
        suite = remembered._GX_SUITES["review_list"][1]
        second = v.validate_review_list(make_review(5), VOCABULARY)
        assert remembered._GX_SUITES["review_list"][1] is suite  # built once
        too_high = make_review(4)
        too_high["rank"] = [1, 2, 3, 5]  # 5 is fine for 5 rows, not for 4
        third = v.validate_review_list(too_high, VOCABULARY)
        assert remembered._GX_SUITES["review_list"][1] is suite
    assert not first.critical_failures() and not second.critical_failures()
    details = [o.detail for o in third.critical_failures()]
    assert details == ["rank outside 1..4"], details
    empty = v.validate_review_list(make_review(0), VOCABULARY)  # n_rows 1: GX rejects [1, 0]
    assert not empty.critical_failures()
