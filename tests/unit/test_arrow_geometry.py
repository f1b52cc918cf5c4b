"""An arrow's head (text labels and arrows, saved as a GSPS polyline): hand-computed barbs."""

from __future__ import annotations

import math

import pytest

from viewer.dicom.pstate_write import Mark, _shape, arrow_head


def test_barbs_are_thirty_degrees_either_side_a_quarter_long() -> None:
    # along +x, 40 px long: a 10 px head (a quarter), barbs at 30 degrees back from the tip
    b1, b2 = arrow_head((0.0, 0.0), (40.0, 0.0))
    back = 40.0 - 10.0 * math.cos(math.radians(30))
    assert sorted([b1, b2]) == [pytest.approx((back, -5.0)), pytest.approx((back, 5.0))]
    # a long arrow's head stays 12 px; a zero-length one has none
    b1, _ = arrow_head((0.0, 100.0), (0.0, 0.0))
    assert math.dist(b1, (0.0, 0.0)) == pytest.approx(12.0)
    assert arrow_head((3.0, 4.0), (3.0, 4.0)) == ((3.0, 4.0), (3.0, 4.0))


def test_arrow_is_a_polyline_starting_with_tail_and_tip() -> None:
    kind, pts = _shape(Mark("arrow", ((0.0, 0.0), (40.0, 0.0))))
    assert kind == "POLYLINE" and pts[:2] == [(0.0, 0.0), (40.0, 0.0)] and pts[1] == pts[3] and len(pts) == 5
