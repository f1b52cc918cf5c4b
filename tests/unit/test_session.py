"""The view model without Qt: view state events, linked scrolling, window/zoom links, 3D cursor.

Oracles: hand-computed slice locations (a slice at z lies at z along an axial normal;
the nearest slice to a location is found by exhaustive search over the generated list).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from viewer.session import FrameRef, Measurement, Session, ViewState

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def stack(n: int, spacing: float, z0: float = 0.0, for_uid: str = "1.2.3", study: str = "9.1",
          patient: str = "P1", orientation=AXIAL, tag: str = "a") -> list[FrameRef]:
    return [FrameRef(f"/{tag}/{k}.dcm", 0, sop_instance_uid=f"{tag}.{k}", position=(0.0, 0.0, z0 + spacing * k),
                     orientation=orientation, spacing=(0.5, 0.5), frame_of_reference_uid=for_uid,
                     study_instance_uid=study, patient_id=patient) for k in range(n)]


def nearest_by_search(z: float, frames: list[FrameRef]) -> int:
    return min(range(len(frames)), key=lambda i: (abs(frames[i].position[2] - z), i))  # type: ignore[index]


def test_session_imports_no_qt() -> None:
    code = ("import sys, viewer.session, viewer.session.sync; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_field_changes_are_announced_once_and_blockable() -> None:
    vs = ViewState()
    seen: list[tuple[str, object]] = []
    listener = vs.changed.connect(lambda _s, name, value: seen.append((name, value)))
    vs.invert = True
    vs.invert = True  # no change, no event
    vs.set_window(40, 400, "Soft tissue")
    assert seen == [("invert", True), ("window", (40.0, 400.0)), ("window_name", "Soft tissue")]
    seen.clear()
    with vs.changed.blocked(listener):
        vs.zoom = 2.0
    assert seen == [] and vs.zoom == 2.0


def test_measurements_are_kept_per_image_and_deleted_one_by_one() -> None:
    vs = ViewState()
    frames = stack(3, 1.0)
    vs.set_frames(frames)
    a = vs.add_measurement(Measurement("distance", [(0, 0), (3, 4)]))
    b = vs.add_measurement(Measurement("angle", [(0, 0), (1, 1), (2, 0)]))
    vs.set_index(2)
    assert vs.measurements_on() == []
    vs.set_index(0)
    assert vs.measurements_on() == [a, b]
    vs.selected = a.id
    assert vs.delete_selected()
    assert vs.measurements_on() == [b] and vs.selected is None
    # Keyed by SOP Instance UID + frame: another stack object with the same images finds them.
    vs.set_frames(list(frames))
    assert vs.measurements_on(("a.0", 0)) == [b]


def test_a_text_label_is_edited_in_place() -> None:
    vs = ViewState()
    vs.set_frames(stack(2, 1.0))
    seen: list[object] = []
    label = vs.add_measurement(Measurement("text", [(5.0, 6.0)], "old"))
    vs.changed.connect(lambda _s, name, value: seen.append((name, value)))
    assert vs.set_measurement_text(label.id, "new")
    assert vs.measurements_on() == [label] and label.text == "new"
    assert seen == [("measurements", vs.current.image_key)]
    assert not vs.set_measurement_text(12345678, "x")


@pytest.mark.parametrize("spacings", [(1.0, 2.5), (2.5, 1.0), (0.625, 5.0), (3.0, 3.0)])
def test_linked_scrolling_keeps_the_nearest_slice(spacings: tuple[float, float]) -> None:
    s = Session("1x2")
    a, b = s.visible
    fa, fb = stack(80, spacings[0], tag="a"), stack(60, spacings[1], z0=-7.3, tag="b")
    a.set_frames(fa)
    b.set_frames(fb)
    s.links.scroll = True
    for k in list(range(0, 80, 7)) + [79, 0]:
        a.set_index(k)
        z = fa[k].position[2]  # type: ignore[index]
        assert b.index == nearest_by_search(z, fb), (k, z)
    # And the other way round.
    b.set_index(17)
    assert a.index == nearest_by_search(fb[17].position[2], fa)  # type: ignore[index]


def test_unlinked_viewports_do_not_follow() -> None:
    s = Session("1x2")
    a, b = s.visible
    a.set_frames(stack(20, 1.0, tag="a"))
    b.set_frames(stack(20, 1.0, tag="b"))
    a.set_index(10)
    assert b.index == 0


def test_other_study_scrolls_by_the_offset_set_when_linking() -> None:
    s = Session("1x2")
    a, b = s.visible
    fa = stack(50, 2.0, for_uid="1.1", study="S1", tag="a")
    fb = stack(50, 2.0, z0=300.0, for_uid="2.2", study="S2", tag="b")  # the prior: other table height
    a.set_frames(fa)
    b.set_frames(fb)
    a.set_index(10)  # z 20
    b.set_index(12)  # z 324: the user aligned them by eye
    s.links.scroll = True
    assert s.offset(fa[0], fb[0]) == pytest.approx(304.0)
    a.set_index(20)  # z 40 -> 344 in the prior
    assert b.index == 22
    # Another patient is never linked.
    c = stack(50, 2.0, for_uid="3.3", patient="P2", tag="c")
    b.set_frames(c)
    a.set_index(5)
    assert b.index == 0


def test_non_parallel_stacks_do_not_scroll_together() -> None:
    s = Session("1x2")
    a, b = s.visible
    a.set_frames(stack(20, 1.0, tag="a"))
    b.set_frames([FrameRef(f"/s/{k}", 0, position=(float(k), 0.0, 0.0), orientation=SAGITTAL,
                           frame_of_reference_uid="1.2.3", patient_id="P1") for k in range(20)])
    s.links.scroll = True
    a.set_index(15)
    assert b.index == 0


def test_window_and_zoom_links() -> None:
    s = Session("2x2")
    views = s.visible
    for i, v in enumerate(views[:3]):
        v.set_frames(stack(5, 1.0, tag=str(i)))
    views[0].set_window(50, 350)
    assert views[1].window is None
    s.links.window = True
    views[0].set_window(-600, 1500, "Lung")
    assert [v.window for v in views[:3]] == [(-600.0, 1500.0)] * 3
    assert views[3].window is None  # empty viewports are left alone
    s.links.zoom = True
    views[2].update(zoom=3.0, pan=(10.0, -4.0))
    assert all(v.zoom == 3.0 and v.pan == (10.0, -4.0) for v in views[:3])


def test_cursor_selects_the_nearest_slice_in_the_other_viewports() -> None:
    s = Session("1x2")
    axial, sag = s.visible
    axial.set_frames(stack(40, 2.5, tag="ax"))
    frames = [FrameRef(f"/s/{k}", 0, position=(-20.0 + 4.0 * k, -100.0, 100.0), orientation=SAGITTAL,
                       frame_of_reference_uid="1.2.3", patient_id="P1") for k in range(11)]
    sag.set_frames(frames)
    s.set_cursor((5.9, 10.0, 51.0), source=axial)
    assert s.cursor == (5.9, 10.0, 51.0)
    assert sag.index == 6  # x = -20 + 4 * 6 = 4.0 is nearest 5.9 (8.0 is 2.1 away)
    s.set_cursor((5.9, 10.0, 51.0), source=sag)
    assert axial.index == 20  # z = 50.0


def test_window_link_stays_within_a_modality() -> None:
    s = Session("1x2")
    ct, mr = s.visible
    ct.set_frames([FrameRef("/ct/1", 0, modality="CT")])
    mr.set_frames([FrameRef("/mr/1", 0, modality="MR")])
    s.links.window = True
    ct.set_window(40, 400, "Soft tissue")
    assert mr.window is None


def test_series_without_pixel_data_are_told_apart() -> None:
    from types import SimpleNamespace

    from viewer.session.frames import has_pixel_data, no_pixels_reason, series_label

    def inst(sop: str, rows: int | None = 512) -> SimpleNamespace:
        return SimpleNamespace(sop_class_uid=sop, rows=rows, header_loaded=True)

    sr = SimpleNamespace(instances=[inst("1.2.840.10008.5.1.4.1.1.88.22", None)], modality="SR",
                         series_number=90, series_description="Report")
    pdf = SimpleNamespace(instances=[inst("1.2.840.10008.5.1.4.1.1.104.1", None)], modality="DOC",
                          series_number=None, series_description="")
    ko = SimpleNamespace(instances=[inst("1.2.840.10008.5.1.4.1.1.88.59", None)], modality="KO",
                         series_number=3, series_description="")
    ct = SimpleNamespace(instances=[inst("1.2.840.10008.5.1.4.1.1.2")], modality="CT", series_number=1,
                         series_description="")
    assert not has_pixel_data(sr) and not has_pixel_data(pdf) and not has_pixel_data(ko) and has_pixel_data(ct)
    assert no_pixels_reason(sr) == "Structured report (1 instance): no image to show."
    assert no_pixels_reason(pdf).startswith("Encapsulated PDF") and "Key object selection" in no_pixels_reason(ko)
    assert series_label(sr) == "Series 90 (SR, Report)" and series_label(pdf) == "Series (DOC)"
