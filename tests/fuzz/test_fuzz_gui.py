"""The GUI loading path under fuzzed media: ``MainWindow.open_paths`` scans a
folder of mutated files in its worker, the browser lists what it could read, and every
series is shown in the viewport (frame decode in the decode pool). Nothing may raise in a
slot or a worker (pytest-qt fails the test on an exception in the Qt event loop), the
window must stay responsive, and every image ends as a picture or a message.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fuzz.fuzz_runner import make_inputs

pytestmark = [pytest.mark.gui, pytest.mark.filterwarnings("ignore::UserWarning:pydicom.*")]

FILES, MEDIA = 400, 6



def test_gui_opens_fuzzed_media(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    inputs = make_inputs(corpus, tmp_path / "in", FILES, seed=4242, media=MEDIA)
    folder = tmp_path / "in"
    shutil.rmtree(folder / "outside" / "cd0001", ignore_errors=True)  # keep one damaged CD in the tree
    window.open_paths([str(folder)])
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=60000)
    tree = window._tree
    series = list(tree.iter_series()) if tree is not None else []
    listed = sum(len(s.instances) for s in series) + window.browser.errors.count()
    assert listed > 0
    outcomes = {"shown": 0, "failed": 0}
    vp = window.viewport
    vp.image_shown.connect(lambda *_: outcomes.__setitem__("shown", outcomes["shown"] + 1))
    vp.failed.connect(lambda *_: outcomes.__setitem__("failed", outcomes["failed"] + 1))
    from viewer.ui.main_window import series_frames

    for s in series:
        window.show_series(s)
        frames = series_frames(s)
        for start in range(min(len(frames), 25)):  # each damaged instance, not only the first
            before = dict(outcomes)
            vp.set_frames(frames, start=start)
            # a picture or a message (slow under load)
            qtbot.waitUntil(lambda before=before: outcomes != before, timeout=60000)
            # (How long the event loop stalls while decoding is measured by bench/gui.py, not here.)
    print(f"\nGUI fuzz: {len(inputs)} inputs, {len(series)} series, {window.browser.errors.count()} unreadable, "
          f"outcomes {outcomes}")


def test_tag_inspector_on_fuzzed_files(qtbot, corpus: Path, tmp_path: Path) -> None:
    """The tag inspector reads each damaged file in its worker, shows the tree (expanded:
    every lazy node built and painted) or a message; nothing raises in the event loop."""
    from viewer.ui.tag_inspector import TagInspector

    inputs = make_inputs(corpus, tmp_path / "in", 120, seed=777)
    w = TagInspector()
    qtbot.addWidget(w)
    w.resize(800, 500)
    w.show()
    for path, _how in inputs:
        if path.suffix != ".dcm":
            continue
        with qtbot.waitSignal(w.loaded, timeout=20000):
            w.show_file(str(path))
        w.expand_all()
        qtbot.wait(1)
