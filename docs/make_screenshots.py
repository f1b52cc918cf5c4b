#!/usr/bin/env python
"""Make the user guide's screenshots (``docs/screenshots/guide_*.png``) from the app itself.

    .venv/bin/python docs/make_screenshots.py                 # all scenarios
    .venv/bin/python docs/make_screenshots.py --only pacs_panel,about
    .venv/bin/python docs/make_screenshots.py --out /tmp/shots  # elsewhere (the test does this)

Main-window scenarios run the application's own ``--screenshot`` option
(``python -m viewer PATH --screenshot OUT``). Panels and dialogs are built from the same
widget classes the application uses and grabbed with ``QWidget.grab()`` in a child process
(``--run NAME``), offscreen; the PACS panel queries a small in-process Q/R SCP that serves
the bundled sample study, so its result list is real C-FIND output.

``tests/unit/test_packaging_guide.py`` regenerates them and compares with the committed
files, so a changed UI shows up as a stale screenshot.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SAMPLE = ROOT / "resources" / "sample"
CORPUS = ROOT / "tests" / "data" / "corpus"
SIZE = "1200x760"

#: Scenarios run through ``python -m viewer ... --screenshot`` (the app's own option).
CLI_SCENARIOS: dict[str, list[str]] = {
    "main_window": [str(SAMPLE / "ct")],
    "open_cd": [str(CORPUS / "dicomdir_media" / "DICOMDIR")],
    # the whole sample: its CT hangs beside its localizer, with the reference line
    "hanging": [str(SAMPLE)],
}
#: Scenarios that build a panel or dialog in a child process (see :func:`run_scenario`).
WIDGET_SCENARIOS = ("pacs_panel", "node_dialog", "print_dialog", "virtual_printer", "tag_inspector", "about",
                    "library", "library_priors", "library_offline", "film_composer", "print_queue")
SCENARIOS = tuple(CLI_SCENARIOS) + WIDGET_SCENARIOS


#: A fixed, fresh home folder: no user settings, recent files or nodes in the pictures, and
#: the same folder names (shown in the About dialog) on every run.
HOME = Path(tempfile.gettempdir()) / "dicom-viewer-docs" / "home" / "radiologist"


def _env() -> dict[str, str]:
    import shutil

    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(HOME))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "PYTHONPATH"):
        env.pop(var, None)
    return env


def _wait(app, seconds: float, until=lambda: False) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.02)
    app.processEvents()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sample_files() -> list[Path]:
    return sorted((SAMPLE / "ct").glob("*.dcm"))


def _start_demo_pacs():  # type: ignore[no-untyped-def]
    """A Study Root C-FIND SCP on a free loopback port answering from the sample study."""
    from pydicom import dcmread
    from pydicom.dataset import Dataset
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelFind as PFind
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as SFind

    headers = [dcmread(p, stop_before_pixels=True) for p in _sample_files()]
    headers.append(dcmread(SAMPLE / "xa_cine.dcm", stop_before_pixels=True))

    def on_find(event):  # type: ignore[no-untyped-def]
        query = event.identifier
        level = str(query.get("QueryRetrieveLevel", "STUDY"))
        seen = set()
        for ds in headers:
            key = ds.StudyInstanceUID if level == "STUDY" else ds.SeriesInstanceUID
            if key in seen:
                continue
            seen.add(key)
            out = Dataset()
            out.QueryRetrieveLevel = level
            for elem in query:
                if elem.keyword and elem.keyword in ds:
                    setattr(out, elem.keyword, ds[elem.keyword].value)
                elif elem.keyword:
                    setattr(out, elem.keyword, elem.value if elem.keyword == "QueryRetrieveLevel" else None)
            if "NumberOfStudyRelatedInstances" in query:
                out.NumberOfStudyRelatedInstances = sum(1 for h in headers
                                                        if h.StudyInstanceUID == ds.StudyInstanceUID)
            if "ModalitiesInStudy" in query:
                out.ModalitiesInStudy = sorted({h.Modality for h in headers
                                                if h.StudyInstanceUID == ds.StudyInstanceUID})
            yield 0xFF00, out

    ae = AE(ae_title="DEMOPACS")
    ae.add_supported_context(SFind)
    ae.add_supported_context(PFind)
    return ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, on_find)])


def _library_window(app):  # type: ignore[no-untyped-def]
    """The main window over a library of three studies: the sample CT (current), the same
    patient's prior (the sample's slices as another study, two years before) and a study
    of a CD that was taken out (offline). UIDs are derived, so every run looks the same."""
    import shutil

    import numpy as np
    from pydicom import dcmread
    from pydicom.uid import generate_uid
    from PySide6.QtCore import QSettings

    from viewer.tasks.library_feed import LibraryService
    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    def copy_study(folder: Path, key: str, date: str, description: str, **changes: str) -> Path:
        folder.mkdir(parents=True)
        for n, src in enumerate(_sample_files()):
            ds = dcmread(src)
            ds.StudyInstanceUID = generate_uid(entropy_srcs=["docs-library", key])
            ds.SeriesInstanceUID = generate_uid(entropy_srcs=["docs-library", key, "series"])
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(
                entropy_srcs=["docs-library", key, str(n)])
            ds.StudyDate, ds.SeriesDate, ds.StudyDescription = date, date, description
            ds.AccessionNumber = f"ACC-{key.upper()}"
            for keyword, value in changes.items():
                setattr(ds, keyword, value)
            if key != "current":  # the prior: the same anatomy, a little smaller two years before
                pixels = ds.pixel_array
                ds.PixelData = np.roll(pixels, (6, -4), axis=(0, 1)).astype(pixels.dtype).tobytes()
            ds.save_as(folder / src.name)
        return folder

    media = HOME / "media"
    shutil.rmtree(media, ignore_errors=True)
    current = copy_study(media / "current", "current", "20240115", "CT chest")
    prior = copy_study(media / "prior", "prior", "20220308", "CT chest")
    cd = copy_study(media / "PATIENT_CD", "cd", "20230502", "CT thorax outside",
                    PatientName="SAMPSON^OLIVER", PatientID="CD-5501")
    library = LibraryService(HOME / "library.sqlite", store_root=HOME / "store")
    library.open_paths([current, prior, cd])
    shutil.rmtree(cd)  # the CD is taken out: its study stays listed, offline
    library.refresh_online()
    w = MainWindow(settings=QSettings(str(HOME / "window.ini"), QSettings.Format.IniFormat), pools=Pools(),
                   library=library)
    w.quiet_errors = True
    w.library_dock.show()
    w.library_dock.raise_()
    browser = w.library_browser
    browser.search.setText("samp")
    _wait(app, 2, lambda: browser.table.rowCount() == 3 and browser.status.text().startswith("3"))
    browser.select_study(generate_uid(entropy_srcs=["docs-library", "current"]))
    _wait(app, 1, lambda: browser.priors.rowCount() > 0)
    return w, browser


def run_scenario(name: str, out: Path) -> int:
    """Build the widget of scenario ``name``, let it settle, save ``widget.grab()`` to ``out``."""
    from viewer.app import make_application

    app = make_application()
    w, h = (int(v) for v in SIZE.split("x"))
    cleanup = []
    if name == "pacs_panel":
        from viewer.config import DimseNode, NetworkConfig
        from viewer.ui.pacs_panel import PacsPanel

        server = _start_demo_pacs()
        cleanup.append(server.shutdown)
        config = NetworkConfig(nodes=[DimseNode("Demo PACS", "DEMOPACS", "127.0.0.1", server.server_address[1])])
        widget = PacsPanel(config, store=None)
        widget.resize(900, 620)
        widget.show()
        widget.search()
        _wait(app, 10, lambda: widget.results.topLevelItemCount() > 0 and widget.search_btn.isEnabled())
        cleanup.append(widget.shutdown)
    elif name == "node_dialog":
        from viewer.config import DimseNode
        from viewer.ui.node_dialog import NodeDialog

        widget = NodeDialog(DimseNode("Hospital PACS", "PACS", "pacs.example.org", 104))
        widget.show()
    elif name == "print_dialog":
        from viewer.ui.print_dialog import PrintDialog

        widget = PrintDialog([(str(p), 0) for p in _sample_files()[:4]], window=(40.0, 400.0))
        widget.resize(w, h)
        widget.show()
        _wait(app, 3)
        cleanup.append(widget.shutdown)
    elif name == "virtual_printer":
        from viewer.ui.virtual_printer import VirtualPrinterDialog

        import threading

        from viewer.cli import main as cli_main

        widget = VirtualPrinterDialog(out_dir=HOME / "prints")
        widget.port.setValue(_free_port())
        widget.show()
        widget.start()
        _wait(app, 1)
        # print one 2x2 film of the sample to it with our own print client (``print`` command)
        job = threading.Thread(target=cli_main, args=([
            "print", "--aec", "VIEWERPRINT", "--printer", "dcmprscp-gray", "--layout", "STANDARD\\2,2",
            "--window", "40", "400", "127.0.0.1", str(widget.port.value()), *map(str, _sample_files()[:4])],))
        job.start()
        _wait(app, 30, lambda: not job.is_alive())
        _wait(app, 1)
        cleanup.append(widget.shutdown)
    elif name == "tag_inspector":
        from viewer.ui.tag_inspector import TagInspector

        widget = TagInspector()
        widget.resize(900, 620)
        widget.show()
        widget.show_file(str(_sample_files()[0]))
        _wait(app, 5, lambda: widget.dataset is not None)
        _wait(app, 0.5)
    elif name in ("library", "library_priors", "library_offline"):
        from PySide6.QtCore import Qt

        # The dock as the window sizes it (1200 px wide: its narrowest), except for the
        # offline study, shown in a dock dragged wider so that every column is on screen.
        widget, browser = _library_window(app)
        widget.resize(w, h)
        widget.show()
        _wait(app, 0.5)
        if name == "library_priors":
            browser.open_with_prior()  # the current study and its prior, side by side
            _wait(app, 20, lambda: widget._load_worker is None and len(widget._shown) >= 2)
            _wait(app, 1.5)
        elif name == "library_offline":
            from pydicom.uid import generate_uid

            widget.resizeDocks([widget.library_dock], [760], Qt.Orientation.Horizontal)
            browser.search.setText("")
            _wait(app, 2, lambda: browser.table.rowCount() == 3)
            offline = generate_uid(entropy_srcs=["docs-library", "cd"])
            browser.select_study(offline)
            browser.open_selected()  # its CD is out: the status bar says so, nothing opens
            _wait(app, 1)
        else:
            _wait(app, 1)
        cleanup.append(widget.shutdown)
    elif name in ("film_composer", "print_queue"):
        from PySide6.QtCore import QSettings

        from viewer.tasks.print_queue import JobStore
        from viewer.ui.main_window import MainWindow
        from viewer.ui.panels import install_panels
        from viewer.ui.print_queue import PrintQueue
        from viewer.ui.workers import Pools

        main = MainWindow(settings=QSettings(str(HOME / "window.ini"), QSettings.Format.IniFormat), pools=Pools())
        main.quiet_errors = True
        panels = install_panels(main, HOME / "config")
        panels.print_queue = PrintQueue(JobStore(HOME / "print-queue.json"))
        main.resize(w, h)
        main.show()
        main.open_paths([str(SAMPLE / "ct")])
        _wait(app, 20, lambda: main._load_worker is None and main.viewport.state.frames)
        _wait(app, 1)
        if name == "film_composer":
            widget = panels.open_film_composer()
            widget.add(widget.sources.current_series())
            widget.resize(w, h)
            widget.refresh()
            _wait(app, 2)
        else:
            widget = panels.open_print_queue()
            widget.resize(720, 420)
            _wait(app, 1)
        cleanup.append(main.shutdown)
    elif name == "about":
        from viewer.ui.about import AboutDialog

        widget = AboutDialog()
        widget.show()
    else:
        print(f"unknown scenario {name!r}", file=sys.stderr)
        return 2
    _wait(app, 0.5)
    ok = widget.grab().save(str(out), "PNG")
    for fn in cleanup:
        try:
            fn()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    return 0 if ok else 1


def make(name: str, out_dir: Path) -> Path:
    """Make one screenshot in ``out_dir``; returns its path."""
    out = out_dir / f"guide_{name}.png"
    if name in CLI_SCENARIOS:
        cmd = [sys.executable, "-m", "viewer", *CLI_SCENARIOS[name], "--screenshot", str(out), "--size", SIZE]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--run", name, "--png", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"{name}: {' '.join(cmd)} failed:\n{proc.stderr}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenario names")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (default docs/screenshots)")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--png", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        sys.path.insert(0, str(ROOT))
        return run_scenario(args.run, args.png)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only.split(","):
        print(make(name, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
