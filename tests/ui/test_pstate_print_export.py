"""The print dialog, the film composer and File > Export take a view with its presentation state.

A folder holds the ramp image of ``tests.helpers.gsps`` and a GSPS on it (a quarter turn, a
flip, graphics of every type, text at an anchor and in a DISPLAY box). Opening it applies the
GSPS (``viewer.ui.pstate_ui``). Oracles: the film image the print dialog previews and the
composer holds is :func:`viewer.tasks.print_render.render_for_print` of a reference carrying
the GSPS (tested against DCMTK and by hand in ``tests/unit/test_print_pstate.py``); the
exported PNG read back by Pillow at the screen position of the GSPS's polyline, which the
viewport maps (``Viewport.scene_point``). Screenshots (``shot_*.png``) are left in the test's
temporary folder to be looked at.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.helpers import gsps
from tests.helpers.ui import open_and_wait
from viewer.tasks.print_render import render_for_print

pytestmark = pytest.mark.gui


@pytest.fixture
def gsps_window(qtbot, window, tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    _image_path, img = gsps.image(folder)
    pr = folder / "pr.dcm"
    gsps.gsps(img, pr, rotation=90, flip=True)
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    qtbot.waitUntil(lambda: window.pstates.applied(vp) is not None, timeout=10000)
    return window, vp, pr


def test_print_dialog_and_composer_carry_the_presentation_state(qtbot, gsps_window, tmp_path) -> None:
    from viewer.ui.panels import install_panels

    window, vp, pr = gsps_window
    panels = install_panels(window, tmp_path / "config")
    dlg = panels.open_print_dialog()
    [ref] = dlg.images
    assert ref.pstate == str(pr) and ref.pstate_annotations
    dlg.selection_combo.setCurrentText("current")
    dlg.bits_combo.setCurrentText("8")
    dlg.update_preview()
    [image] = dlg._films[0].images
    want = render_for_print(ref, 8).pixels
    assert np.array_equal(image.pixels, want)
    assert image.pixels.shape[0] > image.pixels.shape[1]  # the landscape image turned a quarter
    dlg.resize(1000, 700)
    qtbot.wait(300)
    dlg.grab().save(str(tmp_path / "shot_gsps_print_dialog.png"))
    dlg.close()

    composer = panels.open_film_composer()
    composer.add(composer.sources.viewports())
    [box] = [b for b in composer.composition.boxes if b is not None]
    assert box.pstate == str(pr)
    composer.refresh()
    qtbot.wait(300)
    composer.grab().save(str(tmp_path / "shot_gsps_film_composer.png"))
    composer.close()

    # the annotation toggle of the view goes to the film
    vp.state.show_annotations = False
    dlg2 = panels.open_print_dialog()
    assert not dlg2.images[0].pstate_annotations
    dlg2.close()


def _polyline_on_screen(vp) -> list[tuple[int, int]]:
    """View pixels of points along the GSPS's polyline (image coordinates mapped by the viewport)."""
    out = []
    for (ca, ra), (cb, rb) in zip(gsps.POLYLINE, gsps.POLYLINE[1:]):
        for t in (0.3, 0.5, 0.7):
            p = vp.view.mapFromScene(vp.scene_point(ca + t * (cb - ca), ra + t * (rb - ra)))
            out.append((p.x(), p.y()))
    return out


def test_exported_png_shows_the_gsps_annotations_and_image_only_hides_them(qtbot, gsps_window, tmp_path) -> None:
    window, vp, _pr = gsps_window
    qtbot.wait(200)
    shown = np.asarray(Image.open(window.exports.export_png(str(tmp_path / "view.png"), annotations=True)))
    bare = np.asarray(Image.open(window.exports.export_png(str(tmp_path / "bare.png"), annotations=False)))
    Image.fromarray(shown).save(tmp_path / "shot_gsps_export.png")
    Image.fromarray(bare).save(tmp_path / "shot_gsps_export_image_only.png")
    points = _polyline_on_screen(vp)
    # The LINES layer is white; the ramp under the polyline is darker than that everywhere.
    for x, y in points:
        assert shown[y - 1:y + 2, x - 1:x + 2, :3].min(axis=2).max() >= 240, (x, y)
        assert bare[y - 1:y + 2, x - 1:x + 2, :3].max() < 200, (x, y)
    # the view, and what is drawn on it, are back as they were
    group = window.pstates.items_of(vp)
    assert group is not None and all(item.isVisible() for item in group.childItems())
