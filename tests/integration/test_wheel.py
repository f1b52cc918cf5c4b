"""The built wheel installs into a fresh virtual environment and runs from there.

How "fresh" is made honest and fast (no network, no 100 MB PySide6 download per run):

* ``python -m build`` makes the sdist, then the wheel *from the sdist* (so the sdist is
  complete too), with ``--no-isolation`` (setuptools/build come from the test extras).
* ``python -m venv --without-pip`` creates an empty environment from the base interpreter.
  It does not see the base's site-packages (no ``--system-site-packages``) nor the
  developer's editable install.
* The wheel is installed into it with ``pip --python FRESH install --no-deps --no-index``.
* The third-party dependencies are made visible by one ``.pth`` line naming the dev venv's
  site-packages, *after* the fresh site-packages. Python does not process ``.pth`` files
  found in a folder that a ``.pth`` line adds, so the dev venv's editable finder for
  ``viewer`` is not installed: ``viewer`` can only come from the wheel, which the tests
  assert (``viewer.__file__`` and the resource root are inside the fresh venv).
* The commands run from a temporary working folder, without ``PYTHONPATH``, so the source
  tree is not on ``sys.path``.

A complete install with dependencies from the package registry is ``packaging/check-wheel.sh``
(minutes; run by hand or in a release job).

Oracles: pydicom reads the installed sample file (``dump``), DCMTK's ``dcmj2pnm`` renders it
(``render``), and the package metadata's requirements are checked with ``importlib.metadata``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

import viewer

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


class Fresh:
    """A fresh venv with the wheel installed."""

    def __init__(self, root: Path, work: Path, dist: Path) -> None:
        self.root = root
        self.work = work
        self.dist = dist
        self.python = root / "bin" / "python"
        self.script = root / "bin" / "dicom-viewer"

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(a) for a in args], cwd=self.work, env=_env(self.work), capture_output=True,
                              text=True, timeout=timeout)

    def py(self, code: str) -> str:
        proc = self.run(self.python, "-c", code)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Fresh:
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(dist.glob("dicom_viewer-*.whl"))
    assert len(wheels) == 1 and list(dist.glob("dicom_viewer-*.tar.gz"))
    venv_dir = tmp / "venv"
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv_dir)], check=True, timeout=120)
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv_dir / "bin" / "python"), "install",
                           "--no-deps", "--no-index", "--quiet", str(wheels[0])],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    fresh_site = Path(subprocess.run([str(venv_dir / "bin" / "python"), "-c",
                                      "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     capture_output=True, text=True, check=True).stdout.strip())
    (fresh_site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp / "work"
    work.mkdir()
    return Fresh(venv_dir, work, dist)


def test_viewer_comes_from_the_wheel_not_the_source_tree(fresh: Fresh) -> None:
    out = json.loads(fresh.py(
        "import json, viewer, viewer.resources as r;"
        "print(json.dumps([viewer.__file__, str(r.resource_root()), r.resource_origin().value]))"))
    module, root, origin = out
    assert Path(module).is_relative_to(fresh.root) and not Path(module).is_relative_to(ROOT)
    assert Path(root).is_relative_to(fresh.root) and origin == "package"
    for rel in ("window_presets.json", "printers", "print_scp_profiles/default.json", "sample/ct/CT0001.dcm",
                "icons/dicom-viewer.svg", "dicom-viewer.desktop", "mime/dicom-viewer.xml"):
        assert (Path(root) / rel).exists(), rel


def test_wheel_metadata_requirements_are_satisfied(fresh: Fresh) -> None:
    """Every Requires-Dist (without extras) resolves to an installed distribution of a fitting version."""
    code = (
        "import importlib.metadata as m, json\n"
        "from packaging.requirements import Requirement\n"
        "bad=[]\n"
        "for r in m.requires('dicom-viewer'):\n"
        "    req=Requirement(r)\n"
        "    if req.marker and not req.marker.evaluate({'extra': ''}): continue\n"
        "    try: v=m.version(req.name)\n"
        "    except m.PackageNotFoundError: bad.append(r); continue\n"
        "    if not req.specifier.contains(v, prereleases=True): bad.append(r+' has '+v)\n"
        "print(json.dumps(bad))\n")
    assert json.loads(fresh.py(code)) == []


def test_script_version(fresh: Fresh) -> None:
    proc = fresh.run(fresh.script, "--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"dicom-viewer {viewer.__version__}"


def _installed_sample(fresh: Fresh) -> Path:
    return Path(fresh.py("from viewer.resources import resource_path; "
                         "print(resource_path('sample','ct','CT0001.dcm'))"))


def test_dump_of_installed_sample_matches_pydicom(fresh: Fresh) -> None:
    path = _installed_sample(fresh)
    proc = fresh.run(fresh.script, "dump", "--json", path)
    assert proc.returncode == 0, proc.stderr
    ours = json.loads(proc.stdout)
    ds = pydicom.dcmread(path)
    assert ours["00100010"]["Value"][0]["Alphabetic"] == str(ds.PatientName)
    assert ours["0020000D"]["Value"][0] == ds.StudyInstanceUID
    assert ours["00280010"]["Value"][0] == ds.Rows


def test_render_of_installed_sample_matches_dcmj2pnm(fresh: Fresh) -> None:
    exe = shutil.which("dcmj2pnm")
    if exe is None:
        pytest.skip("dcmj2pnm (dcmtk) is not installed")
    path = _installed_sample(fresh)
    ours_png = fresh.work / "ours.png"
    proc = fresh.run(fresh.script, "render", path, "-o", ours_png)
    assert proc.returncode == 0, proc.stderr
    ref_png = fresh.work / "ref.png"
    subprocess.run([exe, "+on", "+Wi", "1", str(path), str(ref_png)], check=True, capture_output=True, timeout=60)
    ours = np.asarray(Image.open(ours_png)).astype(int)
    ref = np.asarray(Image.open(ref_png)).astype(int)
    assert ours.shape == ref.shape
    assert (np.abs(ours - ref) <= 1).mean() >= 0.999


def test_printer_profiles_and_presets_load_from_the_install(fresh: Fresh) -> None:
    out = json.loads(fresh.py(
        "import json; from viewer.film.profile import BUILTIN_DIR; from viewer.tasks.presets import PRESETS_FILE;"
        "print(json.dumps([str(BUILTIN_DIR), str(PRESETS_FILE)]))"))
    for p in out:
        assert Path(p).exists() and Path(p).is_relative_to(fresh.root), p


@pytest.mark.gui
def test_gui_screenshot_from_the_install(fresh: Fresh) -> None:
    sample = Path(fresh.py("from viewer.resources import resource_path; print(resource_path('sample','ct'))"))
    shot = fresh.work / "shot.png"
    proc = fresh.run(fresh.script, sample, "--screenshot", shot, "--size", "800x600", timeout=180)
    assert proc.returncode == 0, proc.stderr
    img = np.asarray(Image.open(shot).convert("L"))
    assert img.shape == (600, 800) and img.std() > 5
