"""Our print SCP against DCMTK's reference print SCU (dcmpsprt renders a job, dcmprscu sends it).

Oracles: DCMTK's own Stored Print and Hardcopy Grayscale objects (what it sent), its DIMSE
log (every status), and the PS3.3 rules for film size and the STANDARD layout.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from tests.helpers.dcmtk_print import dcmtk_print, hardcopies_by_position, print_images
from tests.helpers.peers import free_port
from viewer.film import received_density as dens
from viewer.film import received_layout as lay
from viewer.film.output import FilmSink, make_sink
from viewer.net.print_scp import PrintServer, load_profile

pytestmark = pytest.mark.peers

DPI = 100


@pytest.fixture
def scp(tmp_path: Path):
    profile = load_profile("default")
    sink = make_sink(tmp_path / "prints", profile.min_density, profile.max_density, profile.annotation_formats, DPI)
    server = PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port())
    server.start()
    server.sink = sink  # type: ignore[attr-defined]
    yield server
    server.stop()


def _one_session(root: Path) -> Path:
    sessions = [p for p in root.iterdir() if p.is_dir()]
    assert len(sessions) == 1, sessions
    return sessions[0]


def _nearest(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour resize (REPLICATE magnification), independent of Pillow."""
    ys = np.minimum((np.arange(h) + 0.5) * a.shape[0] / h, a.shape[0] - 1).astype(int)
    xs = np.minimum((np.arange(w) + 0.5) * a.shape[1] / w, a.shape[1] - 1).astype(int)
    return a[ys][:, xs]


def _box_region(png: np.ndarray, fmt: str, position: int, landscape: bool) -> tuple[np.ndarray, lay.Rect, lay.Rect]:
    """(pixels, cell, quadrant): the image's square region centred in its cell."""
    height, width = png.shape[:2]
    cells = lay.image_boxes(fmt, lay.image_area(width, height, (False, False)), min(width, height))
    cell = cells[position - 1]
    kind, (cols, rows) = lay.parse_display_format(fmt)
    quad = lay.Rect((position - 1) % cols * width // cols, (position - 1) // cols * height // rows,
                    width // cols, height // rows)
    side = min(cell.w, cell.h)
    x, y = cell.x + (cell.w - side) // 2, cell.y + (cell.h - side) // 2
    return png[y:y + side, x:x + side], cell, quad


@pytest.mark.parametrize("cols,rows,options,shape", [
    (2, 2, ("--identity",), "IDENTITY"),
    (1, 2, ("--default-plut",), "NONE"),
    (3, 3, ("--lin-od", "--landscape"), "LIN OD"),
])
def test_dcmtk_film_renders_what_was_sent(scp, tmp_path, corpus, cols, rows, options, shape):
    images = print_images(corpus)
    sp, statuses = dcmtk_print(scp.port, tmp_path / "scu", cols, rows, images, *options)
    # Every step succeeded (dcmprscu exits 0 even on refusals: judge by the statuses).
    kinds = [m for m, _ in statuses]
    assert "N-ACTION RSP" in kinds and kinds.count("N-SET RSP") == min(cols * rows, len(images)), statuses
    assert all(s == "0x0000" for _, s in statuses), statuses

    session = _one_session(scp.sink.out_dir)
    png_path = session / "film-1.png"
    png = np.asarray(Image.open(png_path))
    stored = pydicom.dcmread(sp)
    film_box = stored.FilmBoxContentSequence[0]
    assert str(film_box.ImageDisplayFormat) == f"STANDARD\\{cols},{rows}"
    # Film size: 14 x 17 inch at our DPI (PS3.3 C.13.8), landscape swapped.
    landscape = str(film_box.get("FilmOrientation", "")) == "LANDSCAPE"
    assert landscape == ("--landscape" in options)
    expect = (17 * DPI, 14 * DPI) if landscape else (14 * DPI, 17 * DPI)
    assert Image.open(png_path).size == expect
    assert (session / "session.pdf").read_bytes().startswith(b"%PDF")

    fmt = str(film_box.ImageDisplayFormat)
    refs = hardcopies_by_position(sp)
    for position in range(1, cols * rows + 1):
        region, cell, quad = _box_region(png, fmt, position, landscape)
        # Layout (row-major positions, PS3.3 C.13.5.1): the box sits in its grid quadrant.
        assert abs((cell.x + cell.w / 2) - (quad.x + quad.w / 2)) < 0.03 * png.shape[1]
        assert abs((cell.y + cell.h / 2) - (quad.y + quad.h / 2)) < 0.03 * png.shape[0]
        assert min(cell.w, cell.h) > 0.85 * min(quad.w, quad.h)
        if position not in refs:
            # Empty boxes print at the Empty Image Density (BLACK, the default).
            assert region.max() == 0
            continue
        hg = refs[position]
        ours = pydicom.dcmread(session / f"film-1-box-{position}.dcm")
        assert ours.Rows == hg.Rows and ours.Columns == hg.Columns and ours.BitsStored == hg.BitsStored
        if shape in ("IDENTITY", "NONE"):
            # Nothing received is lost: our hardcopy is byte-identical to DCMTK's.
            assert ours.PixelData == hg.PixelData
            # ... and DCMTK reads it as the Hardcopy Grayscale Image it is.
            dump = subprocess.run(["dcmdump", "+P", "SOPClassUID", "+P", "ImageBoxPosition",
                                   str(session / f"film-1-box-{position}.dcm")], capture_output=True, text=True)
            assert dump.returncode == 0 and "HardcopyGrayscaleImageStorage" in dump.stdout
            assert f"US {position} " in dump.stdout and "E:" not in dump.stderr
        else:
            # dcmprscu burns LIN OD into IDENTITY P-values for a P-LUT printer. Our own LIN OD
            # curve (PS3.3 C.11.6.1.2 + PS3.14 GSDF, 2000/10 cd/m2) applied to DCMTK's hardcopy
            # must give the P-values DCMTK computed. The job carries no Min/Max Density, so
            # DCMTK used its defaults, 0.20 and 3.00 OD.
            top = (1 << int(hg.BitsStored)) - 1
            d = dens.linear_od_to_density(hg.pixel_array / top, 0.20, 3.00)
            sent = ours.pixel_array.astype(float) / top
            assert np.abs(dens.density_to_gray(d, 0.20, 3.00) - 255 * sent).max() < 2.0
        p = ours.pixel_array.astype(float) / ((1 << int(ours.BitsStored)) - 1)
        want = _nearest(p, *region.shape)
        # The film box carries IDENTITY (or no P-LUT) over the printer's full density range:
        # PNG gray = 255 * P-value of what was sent.
        assert np.abs(region - 255 * want).mean() < 2.0, position


def test_dcmtk_8bit_printer_profile(tmp_path, corpus):
    """The gray8 profile: DCMTK sends 8-bit without a Presentation LUT and gets 8-bit films."""
    profile = load_profile("gray8")
    sink: FilmSink = make_sink(tmp_path / "prints", profile.min_density, profile.max_density, {}, DPI)
    with PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port()) as server:
        sp, statuses = dcmtk_print(server.port, tmp_path / "scu", 2, 2, print_images(corpus), bits12=False, plut=False)
    assert statuses and all(s == "0x0000" for _, s in statuses), statuses
    session = _one_session(tmp_path / "prints")
    refs = hardcopies_by_position(sp)
    png = np.asarray(Image.open(session / "film-1.png"))
    for pos, hg in refs.items():
        ours = pydicom.dcmread(session / f"film-1-box-{pos}.dcm")
        # dcmprscu reduces its 12-bit hardcopy to 8 bits for a printer without 12-bit support.
        assert int(ours.BitsStored) == 8 and int(ours.BitsAllocated) == 8
        assert np.abs(ours.pixel_array.astype(int) - (hg.pixel_array.astype(int) >> 4)).max() <= 1
        region, _cell, _quad = _box_region(png, "STANDARD\\2,2", pos, False)
        want = _nearest(ours.pixel_array.astype(float) / 255, *region.shape)
        # gray8 profile: Max Density 3.00 OD; IDENTITY over the full range is gray = 255 * P.
        assert np.abs(region - 255 * want).mean() < 2.0


def test_dcmtk_annotation(scp, tmp_path, corpus):
    """dcmprscu N-SETs one Basic Annotation Box (position 2 of format ANNOTATION): its text is
    printed in that box's place, the top-right quarter of the top strip, and nowhere else."""
    _sp, statuses = dcmtk_print(scp.port, tmp_path / "scu", 1, 1, print_images(corpus)[2:3], "--identity",
                                "--annotation", "DCMTK ANNOTATION", "-pd", "-pn", "-pl",
                                extra="Annotation = 2\\ANNOTATION")
    assert all(s == "0x0000" for _, s in statuses), statuses
    log = (tmp_path / "scu" / "dcmprscu.log").read_text()
    assert "DCMTK ANNOTATION" in log and "BasicAnnotationBox" in log.replace(" ", "")
    png = np.asarray(Image.open(_one_session(scp.sink.out_dir) / "film-1.png"))
    height, width = png.shape
    strip = png[: int(0.06 * height)]  # margin 2% + strip 4% (TOP_BOTTOM: positions 1-2 on top)
    assert (strip[:, width // 2:] > 128).any()   # white text on the black border, position 2
    assert not (strip[:, : width // 2] > 128).any()  # position 1 stays empty
    assert not (png[int(0.94 * height):] > 128).any()
