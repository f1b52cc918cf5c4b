"""Window presets: a CT without a window in the file opens with the CT default preset, and
min/max is one key away; presets for every common modality; user presets.

Oracles: the generated CT's Hounsfield values (pydicom's apply_modality_lut), DCMTK's
min-max window definition (center (min + max + 1) / 2, width max - min + 1), and the
presets file read with json.
"""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from PySide6.QtCore import Qt

from tests.helpers.gen_studies import write_ct_with_localizer
from viewer.resources import resource_path

pytestmark = pytest.mark.gui


def _open(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.first_image_shown, timeout=20000):
        window.open_paths([str(path)])
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=20000)


def _default_ct_preset() -> tuple[str, float, float]:
    raw = json.loads(resource_path("window_presets.json").read_text(encoding="utf-8"))
    default = [p for p in raw["CT"] if p.get("default")]
    assert len(default) == 1
    return default[0]["name"], float(default[0]["center"]), float(default[0]["width"])


def test_ct_without_window_opens_with_the_default_preset_and_min_max_is_one_key_away(qtbot, window, tmp_path):
    write_ct_with_localizer(tmp_path / "ct", slices=4, window=False, localizer=False)
    _open(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.current is not None, timeout=10000)
    name, center, width = _default_ct_preset()
    assert (center, width) == (40.0, 400.0)  # soft tissue, as Weasis and RadiAnt open a CT
    assert vp.current_window() == (center, width)
    assert vp.window_name == name
    # The file has no window: min/max is a key away (M), and the Window menu lists it.
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_M)
    ds = pydicom.dcmread(vp.current.ref.path)
    hu = apply_modality_lut(ds.pixel_array, ds)
    lo, hi = float(hu.min()), float(hu.max())
    assert vp.current_window() == pytest.approx(((lo + hi + 1) / 2, hi - lo + 1))
    texts = [a.text() for a in window.viewer_menus.window_menu.actions()]
    assert any("min/max" in t.lower() for t in texts)
    # Scrolling keeps the user's choice; a new series starts again from the default.
    qtbot.keyClick(vp, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: vp.index == 1 and vp.current is not None and vp.current.ref == vp.frames[1])
    assert vp.current_window() != (center, width)


def test_ct_with_a_window_in_the_file_keeps_it(qtbot, window, tmp_path):
    write_ct_with_localizer(tmp_path / "ct", slices=3, window=True, localizer=False)
    _open(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    assert vp.window is None and vp.current_window() == (40.0, 400.0) and vp.window_name == ""


def test_presets_for_every_common_modality() -> None:
    from viewer.tasks.presets import presets_for

    for modality in ("CT", "MR", "CR", "DX", "MG", "US", "NM", "PT"):
        assert presets_for(modality), modality
    # Modalities without calibrated units get relative presets (percentiles of the image).
    assert any(p.percentiles for p in presets_for("DX"))


def test_relative_preset_window() -> None:
    from viewer.render import params_from_dataset
    from viewer.tasks.presets import WindowPreset, preset_window

    ds = pydicom.Dataset()
    ds.Modality, ds.SamplesPerPixel, ds.PhotometricInterpretation = "DX", 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation, ds.Rows, ds.Columns = 16, 12, 11, 0, 10, 10
    stored = np.arange(100, dtype=np.uint16).reshape(10, 10) * 10
    params = params_from_dataset(ds)
    full = preset_window(WindowPreset("Full", 0, 1, percentiles=(0.0, 100.0)), stored, params)
    assert full == pytest.approx(((0 + 990 + 1) / 2, 990 + 1))
    mid = preset_window(WindowPreset("Mid", 0, 1, percentiles=(10.0, 90.0)), stored, params)
    lo, hi = np.percentile(stored, [10, 90])
    assert mid == pytest.approx(((lo + hi) / 2, hi - lo))
    assert preset_window(WindowPreset("Abs", 40, 400), stored, params) == (40.0, 400.0)


def test_user_presets_saved_in_settings(qtbot, window, tmp_path, monkeypatch):
    write_ct_with_localizer(tmp_path / "ct", slices=2, window=True, localizer=False)
    _open(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    vp.set_window(123.0, 456.0)
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("My liver", True))
    window.viewer_menus.save_user_preset()
    window.settings.sync()
    stored = json.loads(window.settings.value("window_presets/user"))
    assert stored["CT"] == [{"name": "My liver", "center": 123.0, "width": 456.0}]
    window.viewer_menus._fill_window_menu()
    action = next(a for a in window.viewer_menus.window_menu.actions() if a.text().startswith("My liver"))
    vp.reset_window()
    action.trigger()
    assert vp.current_window() == (123.0, 456.0) and vp.window_name == "My liver"


def test_thumbnail_of_a_ct_without_window_uses_the_default_preset(tmp_path) -> None:
    from viewer.ui.thumbnails import render_thumbnail

    write_ct_with_localizer(tmp_path / "ct", slices=1, window=False)
    path = tmp_path / "ct" / "LOC001.dcm"  # body 60 HU, spine 500 HU, air -1000 HU
    ds = pydicom.dcmread(path)
    hu = apply_modality_lut(ds.pixel_array, ds)
    thumb = render_thumbnail(str(path), 0, size=400)  # step 1: every pixel
    assert thumb.shape == hu.shape
    r, c = 100, 150  # inside the body, off the spine

    def linear(x: float, center: float = 40.0, width: float = 400.0) -> float:
        # PS3.3 C.11.2.1.2.1, output 0..255
        if x <= center - 0.5 - (width - 1) / 2:
            return 0.0
        if x > center - 0.5 + (width - 1) / 2:
            return 255.0
        return ((x - (center - 0.5)) / (width - 1) + 0.5) * 255.0

    assert float(hu[r, c]) == 60.0
    assert abs(float(thumb[r, c]) - linear(60.0)) <= 1.0  # 140, not min/max's 180
