"""Smoke test of the frozen one-folder bundle (PyInstaller, ``packaging/dicom-viewer.spec``).

The bundle is built once per session into a temporary folder (about 1-2 minutes on two
cores), or reused from ``DICOM_VIEWER_BUNDLE=dist/dicom-viewer`` (``packaging/build-frozen.sh
--smoke`` builds and then runs this file that way). Marked ``slow``; skipped when PyInstaller
is not installed (``pip install -e .[freeze]``).

What it proves: the bundle runs without the source tree or the venv on ``sys.path``; its
resources come from the bundle; the codec plugins are collected (pylibjpeg finds its
decoders through entry points, so a missing ``*.dist-info`` would fail here): JPEG baseline,
extended and lossless, JPEG-LS, JPEG 2000 and RLE images render to the same pixels as the
``render`` command of the source tree (which tests/integration/test_render_dcmj2pnm.py holds
to DCMTK's dcmj2pnm); and the GUI starts offscreen on a DICOMDIR and shows an image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import viewer
from viewer.cli import main as viewer_main

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "corpus"

pytestmark = pytest.mark.slow

#: One file per codec family (transfer syntax in the corpus MANIFEST).
CODEC_FILES = {
    "jpeg-baseline": "ts/JPEGBaseline_1s_1f_u_08_08.dcm",
    "jpeg-baseline-color": "color/SC_rgb_dcmtk_+eb+cy+n1.dcm",
    "jpeg-extended": "ts/JPGExtended.dcm",
    "jpeg-lossless": "ts/JPEG-LL.dcm",
    "jpeg-ls": "ts/MR_small_jpeg_ls_lossless.dcm",
    "jpeg2000-lossless": "ts/MR_small_jp2klossless.dcm",
    "jpeg2000": "ts/JPEG2000.dcm",
    "rle": "ts/MR_small_RLE.dcm",
    "rle-color": "ts/SC_rgb_rle.dcm",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("DICOM_VIEWER_BUNDLE")
    if given:
        exe = Path(given).resolve() / "dicom-viewer"
        assert exe.exists(), f"DICOM_VIEWER_BUNDLE={given} has no dicom-viewer executable"
        return exe
    pytest.importorskip("PyInstaller", reason="PyInstaller not installed (pip install -e .[freeze])")
    tmp = tmp_path_factory.mktemp("frozen")
    proc = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                           "--distpath", str(tmp / "dist"), "--workpath", str(tmp / "build"),
                           str(ROOT / "packaging" / "dicom-viewer.spec")],
                          capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return tmp / "dist" / "dicom-viewer" / "dicom-viewer"


def _run(exe: Path, *args: object, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout)


def test_version_and_resources_come_from_the_bundle(bundle: Path, tmp_path: Path) -> None:
    proc = _run(bundle, "--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"dicom-viewer {viewer.__version__}"
    data = bundle.parent / "_internal" / "viewer" / "_data"
    assert (data / "printers").is_dir() and (data / "window_presets.json").exists()
    # a print SCP profile is listed from the bundled resources
    proc = _run(bundle, "print-scp", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_dump_reads_a_dicomdir(bundle: Path, tmp_path: Path) -> None:
    proc = _run(bundle, "scan", CORPUS / "dicomdir_media" / "DICOMDIR", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


@pytest.mark.parametrize("name", list(CODEC_FILES))
def test_render_compressed_equals_source_tree(bundle: Path, name: str, tmp_path: Path) -> None:
    src = CORPUS / CODEC_FILES[name]
    frozen_png = tmp_path / "frozen.png"
    proc = _run(bundle, "render", src, "-o", frozen_png, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ref_png = tmp_path / "source.png"
    assert viewer_main(["render", str(src), "-o", str(ref_png)]) == 0
    frozen = np.asarray(Image.open(frozen_png))
    ref = np.asarray(Image.open(ref_png))
    assert frozen.shape == ref.shape
    np.testing.assert_array_equal(frozen, ref)


@pytest.mark.gui
def test_gui_screenshot_of_a_dicomdir(bundle: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = _run(bundle, CORPUS / "dicomdir_media" / "DICOMDIR", "--screenshot", shot, "--size", "1024x700",
                cwd=tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr
    img = np.asarray(Image.open(shot).convert("L"))
    assert img.shape == (700, 1024) and img.std() > 5


def test_bundle_is_lean(bundle: Path) -> None:
    """Qt modules the viewer does not use are not in the bundle."""
    internal = bundle.parent / "_internal"
    names = {p.name for p in internal.rglob("*")}
    for unwanted in ("libQt6Qml.so.6", "libQt6Quick.so.6", "libQt6Pdf.so.6", "libQt6WebEngineCore.so.6",
                     "QtQml.abi3.so", "QtNetwork.abi3.so"):
        assert unwanted not in names, unwanted
    assert shutil.disk_usage(internal)  # folder exists
