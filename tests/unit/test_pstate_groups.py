"""Graphic groups and compound graphics of a GSPS are read as the standard lays them out.

PS3.3 C.10.11: the Graphic Group Sequence (0070,0234) is one flat list of (ID, label,
description); graphic and text objects name their group by Graphic Group ID (0070,0295), so
there is no nesting to follow (Content Sequence belongs to structured reports, not to
presentation states). C.10.5.1.3.1: a Compound Graphic Sequence (0070,0209) item comes with
its rendering as simple graphic objects, linked by Compound Graphic Instance ID: drawing the
simple objects draws it, once.
"""

from __future__ import annotations

from pydicom import dcmread

from tests.helpers import gsps
from viewer.dicom.pstate import read_pstate


def test_groups_are_one_flat_list_and_compound_graphics_are_drawn_by_their_simple_objects(tmp_path) -> None:
    _path, img = gsps.image(tmp_path)
    gsps.gsps(img, tmp_path / "pr.dcm", graphic_groups=True, texts=False)
    ps = read_pstate(dcmread(tmp_path / "pr.dcm"))
    assert ps.groups == {7: "OUTLINE"}
    [ann] = ps.annotations_for(str(img.SOPInstanceUID))
    assert [(g.type, g.group) for g in ann.graphics] == [
        ("POLYLINE", 7), ("CIRCLE", 7), ("ELLIPSE", None), ("INTERPOLATED", None), ("POINT", None),
        ("POLYLINE", None)]
    # the ARROW compound is its first polyline's alternate: not read a second time
    assert sum(1 for g in ann.graphics if g.points[:2] == ((6.0, 6.0), (40.0, 10.0))) == 1
