"""Encapsulated PDF pages: documents made by DCMTK ``pdf2dcm`` render page by page.

The PDFs are written by Pillow from known images (Pillow embeds them as JPEG, so colours
come back within JPEG's error); a page rendered at the PDF's own resolution must match the
image it was made from, page for page.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pydicom import dcmread

from tests.helpers.peers import require_program
from viewer.dicom.document import encapsulated_document

COLOURS = [(200, 30, 30), (20, 60, 220), (10, 160, 40)]


def _pages() -> list[Image.Image]:
    pages = []
    for i, colour in enumerate(COLOURS):
        im = Image.new("RGB", (400, 300), "white")
        draw = ImageDraw.Draw(im)
        draw.rectangle([40 + 20 * i, 50, 350, 250], fill=colour)
        pages.append(im)
    return pages


@pytest.fixture(scope="module")
def pdf_dcm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pdf")
    pages = _pages()
    pages[0].save(folder / "doc.pdf", save_all=True, append_images=pages[1:], resolution=72)
    exe = require_program("pdf2dcm", "dcmtk")
    subprocess.run([exe, "--title", "Discharge letter", str(folder / "doc.pdf"), str(folder / "doc.dcm")],
                   check=True, capture_output=True, timeout=60)
    return folder / "doc.dcm"


def _render(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", "render", *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("page", [1, 2, 3])
def test_each_page_renders_as_it_was_written(pdf_dcm: Path, tmp_path: Path, page: int) -> None:
    out = tmp_path / f"p{page}.png"
    res = _render(str(pdf_dcm), "--frame", str(page), "--dpi", "72", "-o", str(out))
    assert res.returncode == 0, res.stderr
    got = np.asarray(Image.open(out).convert("RGB")).astype(int)
    want = np.asarray(_pages()[page - 1]).astype(int)
    assert got.shape == want.shape
    # Away from the rectangle's edges the colours are exact.
    inner = np.ones(want.shape[:2], bool)
    for x in (40 + 20 * (page - 1), 350):
        inner[:, max(0, x - 2):x + 3] = False
    for y in (50, 250):
        inner[max(0, y - 2):y + 3, :] = False
    diff = np.abs(got[inner] - want[inner])
    assert diff.mean() < 2.0 and np.percentile(diff, 99) <= 12
    # The page's own colour, not another page's: the rectangle's centre.
    assert np.abs(got[150, 200] - np.asarray(COLOURS[page - 1])).max() <= 12


def test_resolution_scales_the_page(pdf_dcm: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    assert _render(str(pdf_dcm), "--dpi", "144", "-o", str(out)).returncode == 0
    assert Image.open(out).size == (800, 600)


def test_page_out_of_range_and_damaged_document_are_one_line(pdf_dcm: Path, tmp_path: Path) -> None:
    res = _render(str(pdf_dcm), "--frame", "4", "-o", str(tmp_path / "x.png"))
    assert res.returncode == 2
    assert res.stderr.strip() == "dicom-viewer: error: --frame 4 out of range: the PDF has 3 page(s)"
    ds = dcmread(pdf_dcm)
    ds.EncapsulatedDocument = ds.EncapsulatedDocument[:200]  # cut inside the first object
    if len(ds.EncapsulatedDocument) % 2:
        ds.EncapsulatedDocument += b"\x00"
    del ds.EncapsulatedDocumentLength
    ds.save_as(tmp_path / "cut.dcm")
    res = _render(str(tmp_path / "cut.dcm"), "-o", str(tmp_path / "y.png"))
    assert res.returncode == 1
    assert len(res.stderr.strip().splitlines()) == 1 and "PDF" in res.stderr
    assert not (tmp_path / "y.png").exists()


def test_document_bytes_are_the_pdf_without_its_pad(pdf_dcm: Path) -> None:
    ds = dcmread(pdf_dcm)
    doc = encapsulated_document(ds)
    source = (pdf_dcm.parent / "doc.pdf").read_bytes()
    assert doc.is_pdf and doc.title == "Discharge letter"
    assert doc.data == source
