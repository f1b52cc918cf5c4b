#!/usr/bin/env python
"""Regenerate the screenshots in this folder under Xvfb (a real X server).

    .venv/bin/python docs/screenshots/make_screenshots.py            # all, each in its own Xvfb
    .venv/bin/python docs/screenshots/make_screenshots.py --run NAME --out F.png  # in the current display

Each scenario opens the main window full-screen on repository data, does what a
radiologist would (choose a window, play cine, measure), then grabs the whole X screen
(``QScreen.grabWindow(0)``, what a user would see) and exits. Needs Xvfb (apt: xvfb).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "tests" / "data" / "corpus"
SAMPLE = ROOT / "resources" / "sample"

SCENARIOS = {
    "browser_cd": [str(CORPUS / "dicomdir_media" / "DICOMDIR")],
    "ct_lung_window": [str(SAMPLE / "ct")],
    "mono1_radiograph": [str(CORPUS / "mono1" / "RG3_J2KR.dcm")],
    "us_color_cine": [str(CORPUS / "multiframe" / "examples_ybr_color.dcm")],
    "measurement": [str(SAMPLE / "ct")],
    "layout_2x2": [str(CORPUS / "dicomdir_media" / "DICOMDIR")],
}


def _act(name: str, w) -> None:
    vp = w.viewport
    if name == "ct_lung_window":
        vp.set_index(3)
        vp.set_window(-600, 1500, "Lung")
    elif name == "us_color_cine":
        vp.cine.play()
    elif name == "measurement":
        vp.set_index(3)
        vp.set_window(40, 400, "Abdomen")
        vp.add_measurement("distance", [(60.0, 128.0), (196.0, 128.0)])
        vp.add_measurement("ellipse", [(110.0, 40.0), (146.0, 70.0)])
        vp.add_measurement("angle", [(70.0, 200.0), (128.0, 170.0), (186.0, 200.0)])
        w.viewer_menus.set_tool("distance")
    elif name == "layout_2x2":
        w.set_layout("2x2")
        tree = w._tree
        for viewport, series in zip(w.grid.viewports, list(tree.iter_series())[:4]):
            w.show_series(series, viewport)


def run(name: str, out: str, delay_ms: int) -> int:
    from PySide6.QtCore import QSettings, QTimer
    import tempfile

    from viewer.app import make_application
    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    app = make_application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, pools=Pools())
    w.resize(1280, 800)
    w.showMaximized()
    done = {"acted": False}

    def act() -> None:
        if not done["acted"]:
            done["acted"] = True
            QTimer.singleShot(400, lambda: _act(name, w))

    def shoot() -> None:
        app.primaryScreen().grabWindow(0).save(out, "PNG")
        w.shutdown()
        app.quit()

    w.first_image_shown.connect(act)
    w.first_image_shown.connect(lambda: QTimer.singleShot(delay_ms, shoot))
    QTimer.singleShot(0, lambda: w.open_paths(SCENARIOS[name]))
    QTimer.singleShot(60000, app.quit)
    return app.exec()


def _xvfb() -> tuple[subprocess.Popen, str]:
    import os
    import time

    d = 99
    while Path(f"/tmp/.X{d}-lock").exists():
        d += 1
    proc = subprocess.Popen(["Xvfb", f":{d}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if os.path.exists(f"/tmp/.X11-unix/X{d}"):
            break
        time.sleep(0.1)
    return proc, f":{d}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run")
    parser.add_argument("--out")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    args = parser.parse_args()
    if args.run:
        return run(args.run, args.out, 2500 if args.run == "us_color_cine" else 1500)
    import os

    folder = Path(__file__).resolve().parent
    for name in args.only.split(","):
        png = folder / f"{name}.png"
        proc, display = _xvfb()
        try:
            env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
            subprocess.run([sys.executable, __file__, "--run", name, "--out", str(png)], env=env, check=True,
                           timeout=90)
        finally:
            proc.terminate()
            proc.wait(10)
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
