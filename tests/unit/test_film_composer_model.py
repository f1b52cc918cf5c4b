"""The film composer's model: boxes, layouts, selections, templates (hand-computed expectations)."""

from __future__ import annotations

import pydicom
import pytest

from tests.helpers.ct import ct_dataset
from viewer.errors import UsageError
from viewer.film.compose import fill_template
from viewer.tasks.film_composer import Composition, auto_layout, every_nth, in_range
from viewer.tasks.print_render import ImageRef, render_for_print


def refs(n: int) -> list[ImageRef]:
    return [ImageRef(f"/img{i}.dcm") for i in range(n)]


def names(comp: Composition) -> list[str | None]:
    return [None if b is None else b.path[1:-4] for b in comp.boxes]


def test_auto_layout_among_the_printers_layouts() -> None:
    agfa = ["1,1", "2,1", "1,2", "2,2", "3,2", "2,3", "3,3", "4,3"]
    assert auto_layout(1, agfa) == "STANDARD\\1,1"
    assert auto_layout(2, agfa) == "STANDARD\\2,1"  # the printer's order breaks ties
    assert auto_layout(5, agfa) == "STANDARD\\3,2"
    assert auto_layout(9, agfa) == "STANDARD\\3,3"
    assert auto_layout(40, agfa) == "STANDARD\\4,3"  # too many for one film: the most boxes
    assert auto_layout(3, ["1,1"]) == "STANDARD\\1,1"


def test_edits_keep_the_order_of_the_other_boxes() -> None:
    comp = Composition("STANDARD\\2,2", refs(5))
    assert comp.films == 2 and comp.film(1) == [comp.boxes[4], None, None, None]
    comp.move(0, 3)
    assert names(comp) == ["img1", "img2", "img3", "img0", "img4"]
    comp.clear(1)
    assert names(comp) == ["img1", None, "img3", "img0", "img4"]
    comp.remove(1)
    assert names(comp) == ["img1", "img3", "img0", "img4"] and comp.films == 1
    comp.swap(0, 3)
    assert names(comp) == ["img4", "img3", "img0", "img1"]
    comp.insert(1, [ImageRef("/new.dcm")])
    assert names(comp) == ["img4", "new", "img3", "img0", "img1"]
    comp.place(7, ImageRef("/far.dcm"))
    assert names(comp) == ["img4", "new", "img3", "img0", "img1", None, None, "far"] and comp.films == 2
    comp.clear(7)
    assert comp.films == 2 and len(comp.job_refs()) == 5  # trailing empty boxes are not printed
    assert comp.auto(["1,1", "2,2", "3,3"]) == "STANDARD\\3,3" and comp.films == 1


def test_selections() -> None:
    r = refs(10)
    assert [x.path for x in every_nth(r, 3)] == ["/img0.dcm", "/img3.dcm", "/img6.dcm", "/img9.dcm"]
    assert [x.path for x in in_range(r, 2, 4)] == ["/img1.dcm", "/img2.dcm", "/img3.dcm"]
    with pytest.raises(UsageError):
        in_range(r, 0, 4)
    with pytest.raises(UsageError):
        every_nth(r, 0)


def test_per_box_window_and_zoom(tmp_path) -> None:
    ds = ct_dataset("1.2.3.7.1", "1.2.3.7", "1.2.3.7.2", size=64, pixels=[i % 200 for i in range(64 * 64)])
    ds.PixelSpacing = [1.0, 1.0]
    path = tmp_path / "a.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    comp = Composition("STANDARD\\1,1", [ImageRef(str(path))])
    comp.set_window(0, 100, 50)
    comp.set_zoom(0, 4.0, (64, 64))
    ref = comp.boxes[0]
    assert ref is not None and ref.window == (100.0, 50.0) and ref.area == (-8.0, -8.0, 16.0, 16.0)
    box = render_for_print(ref, 8)
    assert box.pixels.shape == (16, 16)  # the centre quarter of the image
    whole = render_for_print(ImageRef(str(path), window=(100.0, 50.0)), 8).pixels
    assert (box.pixels == whole[24:40, 24:40]).all()


def test_templates_filled_from_the_image() -> None:
    ds = pydicom.Dataset()
    ds.PatientName, ds.PatientID, ds.StudyDate, ds.InstitutionName = "Doe^Jane", "ID7", "20250301", "General"
    assert fill_template("{patient} ({id})", ds) == "Doe Jane (ID7)"
    assert fill_template("{date} {institution} {page}/{pages}", ds, 2, 3) == "2025-03-01 General 2/3"
    assert fill_template("{series}{unknown}", ds) == "{unknown}"
    assert len(fill_template("x" * 100, ds)) == 64
