"""Where the virtual film printer puts what it prints.

For each film session (one folder, ``<out>/<YYYYMMDD-HHMMSS>_<calling AE>_<n>``):

* ``film-<n>.png``: each printed film box, rendered by :func:`viewer.film.received.render_film`;
* ``session.pdf``: all films of the session so far, one page each, at the same DPI;
* ``film-<n>-box-<pos>.dcm``: each received image box as a Hardcopy Grayscale Image
  (1.2.840.10008.5.1.1.29) or Hardcopy Color Image (1.2.840.10008.5.1.1.30) object (both
  retired SOP classes, as DCMTK's dcmprscp also stores), pixel data byte-identical to what
  the SCU sent, so nothing received is lost;
* ``session.json``: Film Session and Film Box attributes, calling AE, files written.

The printer calls :meth:`FilmSink.print_job` with an object shaped like
:class:`ReceivedJob`; this module does not import the network layer (docs/architecture.md, Layers).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from viewer.dicom.file_meta import explicit_le_meta
from viewer.film.received import FilmRenderOptions, render_film
from viewer.film.received_layout import annotation_rows, box_size_mm

log = logging.getLogger(__name__)

HARDCOPY_GRAYSCALE = "1.2.840.10008.5.1.1.29"
HARDCOPY_COLOR = "1.2.840.10008.5.1.1.30"
_IMAGE_KEYWORDS = ("SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration", "Rows", "Columns",
                   "PixelAspectRatio", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation")


class ReceivedFilm(Protocol):
    """One film box as the print SCP holds it at N-ACTION time."""

    film_box_uid: str
    film_box: Dataset
    image_boxes: dict[int, Dataset]
    annotations: dict[int, str]
    presentation_lut: Dataset | None
    image_luts: dict[int, Dataset]


class ReceivedJob(Protocol):
    """One N-ACTION print request: the session and the films to print."""

    session_uid: str
    session: Dataset
    calling_ae: str

    @property
    def films(self) -> Sequence[ReceivedFilm]:
        """Read-only here, so that a list of any film type that matches will do."""
        ...


@dataclass
class _Session:
    folder: Path
    films: list[Path] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    pdf_pages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _json_attrs(ds: Dataset) -> dict[str, object]:
    """Plain attributes of a Dataset for session.json (sequences and bulk data left out)."""
    out: dict[str, object] = {}
    for elem in ds:
        if elem.VR in ("SQ", "OB", "OW", "UN") or not elem.keyword:
            continue
        value = elem.value
        out[elem.keyword] = [str(v) for v in value] if isinstance(value, (list, tuple)) or elem.VM > 1 else str(value)
    return out


class FilmSink:
    """Renders and stores print jobs under ``out_dir``; thread-safe (one call per job).

    Parameters
    ----------
    out_dir : Path
        Root folder; one sub-folder per film session.
    options : FilmRenderOptions
        DPI, printer density range, annotation formats.
    """

    def __init__(self, out_dir: Path, options: FilmRenderOptions | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.options = options or FilmRenderOptions()
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._serial = 0

    def _session(self, job: ReceivedJob) -> _Session:
        with self._lock:
            sess = self._sessions.get(job.session_uid)
            if sess is None:
                self._serial += 1
                ae = re.sub(r"[^A-Za-z0-9_-]+", "_", job.calling_ae.strip()) or "SCU"
                name = f"{time.strftime('%Y%m%d-%H%M%S')}_{ae}_{self._serial:04d}"
                folder = self.out_dir / name
                folder.mkdir(parents=True, exist_ok=True)
                sess = _Session(folder, record={"film_session_uid": job.session_uid, "calling_ae": job.calling_ae,
                                                "film_session": _json_attrs(job.session), "films": []})
                self._sessions[job.session_uid] = sess
            return sess

    def print_job(self, job: ReceivedJob) -> list[Path]:
        """Render every film of ``job`` to PNG, store its image boxes, refresh the session PDF.

        Returns
        -------
        list of Path
            The PNG files written, one per film box.
        """
        sess = self._session(job)
        written: list[Path] = []
        with sess.lock:  # films of one session in order; other sessions print in parallel
            for film in job.films:
                image = render_film(film.film_box, film.image_boxes, film.annotations, film.presentation_lut,
                                    self.options, film.image_luts)
                number = len(sess.films) + 1
                png = sess.folder / f"film-{number}.png"
                image.save(png, dpi=(self.options.dpi, self.options.dpi))
                sess.films.append(png)
                boxes = [self._store_box(sess.folder / f"film-{number}-box-{pos}.dcm", box, job, film)
                         for pos, box in sorted(film.image_boxes.items())]
                log.info("film %d of session %s: %s (%dx%d px, %d image boxes)", number, sess.folder.name,
                         png.name, image.width, image.height, len(boxes))
                sess.record["films"].append({"png": png.name, "film_box_uid": film.film_box_uid,
                                             "film_box": _json_attrs(film.film_box),
                                             "annotations": {str(k): v for k, v in film.annotations.items()},
                                             "hardcopies": [b.name for b in boxes]})
                written.append(png)
            self._write_pdf(sess)
            (sess.folder / "session.json").write_text(json.dumps(sess.record, indent=2))
        return written

    def box_size_mm(self, film_box: Dataset, position: int) -> tuple[float, float] | None:
        """Size in mm of an image box on this printer's films (for Requested Image Size checks)."""
        count, placement = self.options.annotation_formats.get(
            str(film_box.get("AnnotationDisplayFormatID", "") or "").upper(), (0, "TOP"))
        return box_size_mm(str(film_box.get("ImageDisplayFormat", "")), position, film_box.get("FilmSizeID"),
                           film_box.get("FilmOrientation"), annotation_rows(count, placement))

    def folder_of(self, session_uid: str) -> Path | None:
        """The folder of a film session already printed to, if any."""
        with self._lock:
            sess = self._sessions.get(session_uid)
            return sess.folder if sess else None

    def _write_pdf(self, sess: _Session) -> None:
        """Add the session's new films to its multi-page PDF (Pillow appends pages in place)."""
        from PIL import Image

        new = sess.films[sess.pdf_pages:]
        if not new:
            return
        pages: list[Image.Image] = [Image.open(p) for p in new]
        try:
            pages = [p.convert("RGB") if p.mode not in ("L", "RGB") else p for p in pages]
            # Pillow embeds the pages as JPEG: quality 95 keeps them close to the PNGs.
            pages[0].save(sess.folder / "session.pdf", save_all=True, append_images=pages[1:],
                          append=sess.pdf_pages > 0, resolution=float(self.options.dpi), quality=95)
            sess.pdf_pages += len(pages)
        finally:
            for p in pages:
                p.close()

    @staticmethod
    def _store_box(path: Path, box: Dataset, job: ReceivedJob, film: ReceivedFilm) -> Path:
        """Store one image box as a Hardcopy Grayscale/Color Image object (PS3.3 A.11 / A.12, retired)."""
        color = "BasicColorImageSequence" in box and bool(box.BasicColorImageSequence)
        item = box.BasicColorImageSequence[0] if color else box.BasicGrayscaleImageSequence[0]
        ds = Dataset()
        ds.SOPClassUID = HARDCOPY_COLOR if color else HARDCOPY_GRAYSCALE
        ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.Modality = "HC"  # PS3.3 C.7.3.1.1.1: Hard Copy
        ds.PatientName = ""
        ds.PatientID = ""
        ds.ContentDate = time.strftime("%Y%m%d")
        ds.ContentTime = time.strftime("%H%M%S")
        ds.InstanceNumber = int(box.get("ImageBoxPosition", 0) or 0)
        ds.ImageBoxPosition = box.get("ImageBoxPosition")
        ds.Polarity = box.get("Polarity", "NORMAL")
        ds.StationName = job.calling_ae[:16]
        for keyword in _IMAGE_KEYWORDS:
            if keyword in item:
                setattr(ds, keyword, item[keyword].value)
        ds.add_new(0x7FE00010, "OB" if int(item.BitsAllocated) == 8 else "OW", item.PixelData)
        ds.file_meta = explicit_le_meta(ds)
        ds.save_as(path, enforce_file_format=True)
        return path


def make_sink(out_dir: Path, printer_min_density: int, printer_max_density: int,
              annotation_formats: dict[str, tuple[int, str]], dpi: int = 150) -> FilmSink:
    """A :class:`FilmSink` for a printer profile's density range (hundredths of OD) and annotation formats."""
    return FilmSink(out_dir, FilmRenderOptions(dpi=dpi, printer_min_density=printer_min_density / 100.0,
                                               printer_max_density=printer_max_density / 100.0,
                                               annotation_formats=dict(annotation_formats)))
