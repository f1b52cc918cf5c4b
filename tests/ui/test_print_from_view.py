"""A film composed in the GUI prints what the viewport shows.

Oracle: the viewport's own render (``Viewport.rendered``) sampled through Qt's transform
of the viewport (``QTransform`` of rotation, flips and pixel aspect; the view box's range
for zoom and pan), compared with what DCMTK's dcmprscp stored.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from pydicom import dcmread
from PySide6.QtCore import QPointF, QRectF

from tests.helpers.peers import c_echo
from tests.helpers.ui import open_and_wait
from viewer.film.profile import load_profiles

pytestmark = [pytest.mark.gui, pytest.mark.peers]


def viewport_truth(vp) -> np.ndarray:
    """The visible part of the image, as the viewport draws it, one sample per source pixel."""
    rows, cols = vp.rendered.shape[:2]
    inv, ok = vp.view_geometry.base.inverted()
    assert ok
    seen = inv.mapRect(vp.viewbox.viewRect())
    c0, c1 = max(0, math.floor(seen.left() + 1e-6)), min(cols, math.ceil(seen.right() - 1e-6))
    r0, r1 = max(0, math.floor(seen.top() + 1e-6)), min(rows, math.ceil(seen.bottom() - 1e-6))
    out_rect = vp.view_geometry.base.mapRect(QRectF(c0, r0, c1 - c0, r1 - r0))
    turned = (vp.state.rotation // 90) % 2 == 1
    h, w = (c1 - c0, r1 - r0) if turned else (r1 - r0, c1 - c0)
    out = np.zeros((h, w), vp.rendered.dtype)
    for i in range(h):
        for j in range(w):
            x = out_rect.left() + (j + 0.5) * out_rect.width() / w
            y = out_rect.top() + (i + 0.5) * out_rect.height() / h
            p = inv.map(QPointF(x, y))
            out[i, j] = vp.rendered[int(math.floor(p.y())), int(math.floor(p.x()))]
    return out


def _print_dialog(qtbot, panels, print_scp):
    """The print dialog on DCMTK's print SCP: the current image, 8 bits."""
    profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=print_scp.port, ae_title=print_scp.aet)
    dlg = panels.open_print_dialog()
    qtbot.addWidget(dlg)
    dlg.profiles = {profile.name: profile}
    dlg.printer_combo.clear()
    dlg.printer_combo.addItems([profile.name])
    dlg.selection_combo.setCurrentText("current")
    dlg.bits_combo.setCurrentText("8")
    return dlg


def _print(qtbot, dlg, print_scp):
    """Print now; the one hardcopy the SCP stored."""
    jid = dlg.print_now()
    qtbot.waitUntil(lambda: jid in dlg.reports or jid in dlg.errors, timeout=60000)
    assert jid not in dlg.errors, dlg.errors.get(jid)
    (hc,) = [dcmread(f) for f in print_scp.hardcopies()]
    return hc


def test_rotated_zoomed_inverted_view_prints_as_shown(qtbot, window, print_scp, corpus, tmp_path) -> None:
    print_scp.clear()
    path = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[0]
    from viewer.ui.panels import install_panels

    panels = install_panels(window, tmp_path / "config")  # File > Print (its dock narrows the viewport)
    open_and_wait(qtbot, window, path)
    vp = window.viewport
    vp.state.rotate(90)
    vp.state.set_flip(horizontal=True)
    vp.set_invert(True)
    vp.state.update(zoom=12.0, pan=(15.0, -25.0))
    qtbot.wait(300)
    qtbot.waitUntil(lambda: vp.rendered is not None and not vp.renderer.previewing, timeout=10000)
    truth = viewport_truth(vp)
    assert 0 < truth.size < vp.rendered.size / 4  # zoomed in: part of the image
    window.grab().save(str(tmp_path / "viewport.png"))

    dlg = _print_dialog(qtbot, panels, print_scp)
    hc = _print(qtbot, dlg, print_scp)
    printed = hc.pixel_array
    assert printed.shape == truth.shape
    assert hc.BitsStored == 8
    np.testing.assert_array_equal(printed, truth)
    assert c_echo(print_scp.port, print_scp.aet) == 0
    panels.shutdown()


def test_measurements_burnt_in_at_film_resolution(qtbot, window, print_scp, corpus, tmp_path) -> None:
    """A distance drawn on the image prints as a thin line at film resolution (2048 pixels),
    where the viewport shows it, and only when asked for."""
    from viewer.session import Measurement
    from viewer.ui.panels import install_panels

    print_scp.clear()
    panels = install_panels(window, tmp_path / "config")
    path = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[0]
    open_and_wait(qtbot, window, path)
    vp = window.viewport
    vp.state.add_measurement(Measurement("distance", [(10.0, 64.0), (110.0, 64.0)], "250.0 mm"))
    qtbot.wait(100)
    dlg = _print_dialog(qtbot, panels, print_scp)
    dlg.overlays_check.setChecked(False)
    assert dlg.marks_check.isEnabled()
    dlg.marks_check.setChecked(True)
    hc = _print(qtbot, dlg, print_scp)
    px = hc.pixel_array
    assert px.shape == (2048, 2048)  # 128 x 128 image resampled to film resolution before drawing
    column = px[:, 1024]
    white = np.flatnonzero(column == 255)
    # the line lies on source row 64 (x 16 film pixels per image pixel) and is thinner than a source pixel
    near = white[np.abs(white - 64 * 16) < 16]
    assert near.size > 0 and near.size < 16
    panels.shutdown()
