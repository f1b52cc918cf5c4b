"""Hanging protocols (viewer.session.hanging): rules as data, chosen and applied without Qt.

Oracles: the studies are built here with known modality, views, Image Type and geometry,
so which series must hang where follows from the protocol files' stated rules (and the
reading conventions they encode: a localizer beside its stack, RCC/LCC over RMLO/LMLO,
a frontal chest view left of the lateral).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from viewer.dicom.model import Instance, StudyTree
from viewer.resources import resource_path
from viewer.session.hanging import (
    Protocol,
    ProtocolError,
    display_sets,
    find_protocol,
    hang,
    load_protocols,
    plane_name,
    primary_modality,
    protocol_from_arrangement,
    save_protocol,
)

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
_n = [0]


def inst(series: str, modality: str = "CT", study: str = "st1", number: int = 1, z: float = 0.0,
         orientation=AXIAL, image_type=("ORIGINAL", "PRIMARY", "AXIAL"), description: str = "",
         series_number: int = 1, study_date: str = "20250101", x: float = 0.0, **extra) -> Instance:
    _n[0] += 1
    return Instance(path=f"/x/{_n[0]}.dcm", sop_instance_uid=f"1.2.{_n[0]}", study_instance_uid=study,
                    series_instance_uid=series, patient_id="P1", patient_name="A^B", modality=modality,
                    series_number=series_number, series_description=description, instance_number=number,
                    rows=64, columns=64, image_position=(x, 0.0, z), image_orientation=orientation,
                    image_type=tuple(image_type), frame_of_reference_uid="for1", study_date=study_date, **extra)


def tree_of(*instances: Instance) -> StudyTree:
    t = StudyTree()
    for i in instances:
        t.add(i)
    return t


@pytest.fixture(scope="module")
def bundled() -> list[Protocol]:
    protocols = load_protocols([resource_path("hanging_protocols")])
    assert len(protocols) >= 4
    return protocols


def ct_with_localizer(slices: int = 40, localizer_type: bool = True, description: str = "Topogram") -> StudyTree:
    loc = inst("loc", number=1, orientation=CORONAL, series_number=1, description=description,
               image_type=("ORIGINAL", "PRIMARY", "LOCALIZER") if localizer_type else ("ORIGINAL", "PRIMARY"))
    axial = [inst("ax", number=k + 1, z=5.0 * k, series_number=2, description="Axial") for k in range(slices)]
    return tree_of(loc, *axial)


def test_ct_localizer_hangs_beside_the_stack(bundled) -> None:
    h = hang(display_sets(ct_with_localizer()), bundled)
    assert h.protocol == "CT/MR: localizer beside the stack" and h.layout == "1x2"
    assert [s.series_uid for s in h.viewports] == ["ax", "loc"]
    assert h.viewports[1].localizer and h.viewports[0].images == 40
    assert h.active == 0  # keys scroll the stack; its line shows on the localizer


def test_localizer_found_by_description_or_inside_the_series(bundled) -> None:
    h = hang(display_sets(ct_with_localizer(localizer_type=False, description="SCOUT")), bundled)
    assert [s.series_uid for s in h.viewports] == ["ax", "loc"]
    # One series holding the axial slices and a coronal single image (a scanner's localizer).
    axial = [inst("one", number=k + 2, z=5.0 * k) for k in range(20)]
    loc = inst("one", number=1, orientation=CORONAL, image_type=("ORIGINAL", "PRIMARY"))
    sets = display_sets(tree_of(loc, *axial))
    assert sorted((s.images, s.localizer) for s in sets) == [(1, True), (20, False)]
    h = hang(sets, bundled)
    assert h.layout == "1x2" and h.viewports[1].localizer and h.viewports[0].images == 20


def test_one_viewport_shows_the_largest_stack_never_the_localizer(bundled) -> None:
    # The defect: opening a CT folder showed the 1-image localizer (series 1) first.
    h = hang(display_sets(ct_with_localizer()), bundled, layout="1x1")
    assert h.layout == "1x1" and h.viewports[0].series_uid == "ax"


def test_largest_stacks_of_the_primary_modality(bundled) -> None:
    small = [inst("thick", number=k + 1, z=5.0 * k, series_number=1) for k in range(10)]
    big = [inst("thin", number=k + 1, z=1.0 * k, series_number=3) for k in range(60)]
    sag = [inst("sag", number=k + 1, orientation=SAGITTAL, series_number=4, x=float(k)) for k in range(30)]
    sr = [Instance(path="/x/sr.dcm", sop_instance_uid="9.9", study_instance_uid="st1", series_instance_uid="sr",
                   patient_id="P1", patient_name="A^B", modality="SR", series_number=0)]
    sets = display_sets(tree_of(*small, *big, *sag, *sr))
    assert "sr" not in {s.series_uid for s in sets}  # nothing to hang in a report
    h = hang(sets, bundled)
    assert h.protocol == "Largest stacks" and [s.series_uid for s in h.viewports] == ["thin"]
    h = hang(sets, bundled, layout="2x2")
    assert [s.series_uid if s else None for s in h.viewports] == ["thin", "sag", "thick", None]


def test_primary_modality_counts_instances_not_series_or_frames() -> None:
    pet = [inst(f"pt{k % 3}", modality="PT", number=k + 1, z=float(k), series_number=k % 3) for k in range(90)]
    ct = [inst("ct", modality="CT", number=k + 1, z=float(k), series_number=5) for k in range(40)]
    assert primary_modality(display_sets(tree_of(*ct, *pet))) == "PT"
    # One 24-frame XA run does not outweigh 8 CT slices.
    xa = inst("xa", modality="XA", orientation=None, number_of_frames=24, series_number=9)
    sets = display_sets(tree_of(*ct[:8], xa))
    assert primary_modality(sets) == "CT"


def mg_views(order) -> StudyTree:
    views = {"RCC": ("CC", "R"), "LCC": ("CC", "L"), "RMLO": ("MLO", "R"), "LMLO": ("MLO", "L")}
    return tree_of(*(inst("mg", modality="MG", number=k + 1, orientation=None, image_type=("ORIGINAL", "PRIMARY"),
                          view_position=views[name][0], laterality=views[name][1])
                     for k, name in enumerate(order)))


def test_mammography_four_standard_views(bundled) -> None:
    h = hang(display_sets(mg_views(["LMLO", "RCC", "LCC", "RMLO"])), bundled)
    assert h.protocol == "MG: four standard views" and h.layout == "2x2"
    assert [(s.view_position, s.laterality) for s in h.viewports] == [("CC", "R"), ("CC", "L"), ("MLO", "R"),
                                                                      ("MLO", "L")]


def test_mammography_series_laterality_from_the_header() -> None:
    # Image Laterality (0020,0062) wins; Laterality (0020,0060) is used when it is absent.
    from viewer.dicom.headers import fields_from, build_instance

    f = fields_from({"SOPInstanceUID": "1", "StudyInstanceUID": "2", "SeriesInstanceUID": "3", "Laterality": "L",
                     "ViewPosition": "MLO"})
    i = build_instance(f, "/x", "", None)
    assert (i.laterality, i.view_position) == ("L", "MLO")
    f = fields_from({"SOPInstanceUID": "1", "StudyInstanceUID": "2", "SeriesInstanceUID": "3", "Laterality": "L",
                     "ImageLaterality": "R"})
    assert build_instance(f, "/x", "", None).laterality == "R"


def test_projection_series_split_by_view_only() -> None:
    # Three radiographs without a stated view stay one stack to scroll; PA + LAT in one series are two.
    same = [inst("cr", modality="CR", number=k + 1, orientation=None) for k in range(3)]
    sets = display_sets(tree_of(*same))
    assert [s.images for s in sets] == [3]
    two = [inst("dx", modality="DX", number=1, orientation=None, view_position="PA"),
           inst("dx", modality="DX", number=2, orientation=None, view_position="LL")]
    assert sorted(s.view_position for s in display_sets(tree_of(*two))) == ["LL", "PA"]


def test_two_chest_views_side_by_side(bundled) -> None:
    lat = inst("cr", modality="CR", number=1, orientation=None, view_position="LL", series_number=1)
    pa = inst("cr2", modality="CR", number=1, orientation=None, view_position="PA", series_number=2)
    h = hang(display_sets(tree_of(lat, pa)), bundled)
    assert h.protocol == "CR/DX: two views" and h.layout == "1x2"
    assert [s.view_position for s in h.viewports] == ["PA", "LL"]
    # Three views are not "two views": one viewport.
    third = inst("cr3", modality="CR", number=1, orientation=None, view_position="AP", series_number=3)
    assert hang(display_sets(tree_of(lat, pa, third)), bundled).layout == "1x1"


def test_current_and_prior_study_and_rules(tmp_path, bundled) -> None:
    new = [inst("new", study="s2", number=k + 1, z=float(k), study_date="20250301", body_part_examined="CHEST",
                description="Thorax 1mm") for k in range(30)]
    old = [inst("old", study="s1", number=k + 1, z=float(k), study_date="20240301", body_part_examined="CHEST",
                description="Thorax 1mm") for k in range(50)]
    sets = display_sets(tree_of(*old, *new))
    assert {s.series_uid: s.prior for s in sets} == {"new": False, "old": True}
    # The default never hangs a prior before the current study, even a larger one.
    assert hang(sets, bundled).viewports[0].series_uid == "new"
    proto = Protocol.from_json({"name": "Chest compare", "priority": 70, "layout": "1x2",
                                "match": {"modality": "CT", "body_part": ["CHEST*"],
                                          "requires": [{"study": "prior"}]},
                                "viewports": [{"study": "current", "description": "thorax"},
                                              {"study": "prior", "min_images": 40, "max_images": 60}]})
    h = hang(sets, [*bundled, proto])
    assert h.protocol == "Chest compare" and [s.series_uid for s in h.viewports] == ["new", "old"]
    # Without a prior study the protocol does not apply.
    assert hang(display_sets(tree_of(*new)), [*bundled, proto]).protocol == "Largest stacks"


def test_protocol_files_user_override_and_errors(tmp_path, bundled, caplog) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "mine.json").write_text(json.dumps({"name": "Largest stacks", "layout": "2x2", "viewports": []}))
    (user / "broken.json").write_text("{not json")
    (user / "bad_key.json").write_text(json.dumps({"name": "x", "viewports": [{"colour": "red"}]}))
    with caplog.at_level(logging.WARNING):
        protocols = load_protocols([resource_path("hanging_protocols"), user])
    assert "broken.json" in caplog.text and "unknown rule keys ['colour']" in caplog.text
    assert find_protocol(protocols, "largest stacks").layout == "2x2"
    assert find_protocol(protocols, "mammography").name == "MG: four standard views"  # by file name
    with pytest.raises(KeyError, match="no hanging protocol 'nope'"):
        find_protocol(protocols, "nope")
    with pytest.raises(ProtocolError, match="layout"):
        Protocol.from_json({"name": "x", "layout": "9x9"})
    with pytest.raises(ProtocolError, match="description pattern"):
        Protocol.from_json({"name": "x", "viewports": [{"description": "("}]})
    with pytest.raises(ProtocolError, match="layout"):
        hang([], bundled, layout="1by2")
    for bad, why in (({"viewports": [{"min_images": "many"}]}, "whole number"),
                     ({"viewports": [{"localizer": "yes"}]}, "true or false"),
                     ({"viewports": [{"modality": 3}]}, "text"),
                     ({"match": {"requires": {"localizer": True}}}, "list of rules"),
                     ({"match": {"count": {"select": {}, "min": "2"}}}, "whole number"),
                     ({"viewports": [{"study": "next"}]}, "current, prior or any"),
                     ({"viewports": "all"}, "list of rules")):
        with pytest.raises(ProtocolError, match=why):
            Protocol.from_json({"name": "x", **bad})


def test_named_protocol_and_save_current_arrangement(tmp_path, bundled) -> None:
    sets = display_sets(ct_with_localizer())
    h = hang(sets, bundled, protocol="largest stacks")
    assert h.layout == "1x1" and h.viewports[0].series_uid == "ax"
    # The user puts the localizer left and saves that as a protocol; the next such study hangs alike.
    ax, loc = h.viewports[0], next(s for s in sets if s.localizer)
    saved = save_protocol(protocol_from_arrangement("My CT", "1x2", [loc, ax], sets, active=1), tmp_path)
    protocols = load_protocols([resource_path("hanging_protocols"), tmp_path])
    again = hang(display_sets(ct_with_localizer(slices=25)), protocols)
    assert saved.name == "My_CT.json"
    assert again.protocol == "My CT" and [s.localizer for s in again.viewports] == [True, False]
    assert again.viewports[1].images == 25 and again.active == 1


def test_plane_names() -> None:
    assert plane_name(AXIAL) == "axial" and plane_name(CORONAL) == "coronal" and plane_name(SAGITTAL) == "sagittal"
    assert plane_name((1, 0, 0, 0, 0.7071, -0.7071)) == "oblique" and plane_name(None) == ""


def test_bundled_files_are_valid(repo_root: Path) -> None:
    folder = repo_root / "resources" / "hanging_protocols"
    for path in folder.glob("*.json"):
        Protocol.from_json(json.loads(path.read_text()), str(path))


def test_the_guides_example_protocol_is_valid(repo_root: Path) -> None:
    text = (repo_root / "docs" / "guide.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```json\n(.*?)```", text, flags=re.S) if '"viewports"' in b]
    assert blocks
    for block in blocks:
        proto = Protocol.from_json(json.loads(block))
        assert proto.match.get("requires")
