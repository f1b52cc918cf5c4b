"""pynetdicom print SCUs for the print SCP's tests and benchmarks (PS3.4 H).

* :class:`PrintScu`: a film session, a film box and image boxes of a chosen size, answering
  with the status the SCP sends (hardening tests);
* :class:`RawPrintScu`: every N-CREATE/N-SET/N-ACTION of the Print Management service one
  request at a time, remembering the instance UIDs the SCP assigns (protocol tests, bench);
* :func:`gray_box`, :func:`color_box`: Basic Grayscale / Color Image Box N-SET data sets
  (PS3.3 C.13.5) of given pixels.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, evt

GRAY_META = "1.2.840.10008.5.1.1.9"
COLOR_META = "1.2.840.10008.5.1.1.18"
PLUT = "1.2.840.10008.5.1.1.23"
PRINT_JOB = "1.2.840.10008.5.1.1.14"
ANNOTATION = "1.2.840.10008.5.1.1.15"
PRINTER, PRINTER_INSTANCE = "1.2.840.10008.5.1.1.16", "1.2.840.10008.5.1.1.17"
FILM_SESSION, FILM_BOX = "1.2.840.10008.5.1.1.1", "1.2.840.10008.5.1.1.2"


class PrintScu:
    def __init__(self, port: int, timeout: float = 30) -> None:
        ae = AE(ae_title="HOSTILE")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
        ae.add_requested_context(GRAY_META, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        self.created: str | None = None
        self.assoc = ae.associate("127.0.0.1", port, ae_title="VIEWERPRINT",
                                  evt_handlers=[(evt.EVT_DIMSE_RECV, self._recv)])
        assert self.assoc.is_established

    def _recv(self, event) -> None:  # the N-CREATE-RSP names the instance the SCP made
        cs = event.message.command_set
        if cs.CommandField == 0x8140 and "AffectedSOPInstanceUID" in cs:
            self.created = str(cs.AffectedSOPInstanceUID)

    def film(self, boxes: str = "STANDARD\\2,2") -> list[Dataset]:
        ds = Dataset()
        ds.NumberOfCopies = 1
        st, rsp = self.assoc.send_n_create(ds, FILM_SESSION, None, meta_uid=GRAY_META)
        assert int(st.Status) == 0
        session_uid = self.created
        fb = Dataset()
        fb.ImageDisplayFormat, fb.FilmSizeID = boxes, "8INX10IN"
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = FILM_SESSION, session_uid
        fb.ReferencedFilmSessionSequence = [ref]
        st, rsp = self.assoc.send_n_create(fb, FILM_BOX, None, meta_uid=GRAY_META)
        assert int(st.Status) == 0 and rsp is not None, hex(int(st.Status))
        return list(rsp.ReferencedImageBoxSequence)

    def set_box(self, ref: Dataset, position: int, rows: int, cols: int) -> int:
        img = Dataset()
        img.SamplesPerPixel, img.PhotometricInterpretation = 1, "MONOCHROME2"
        img.Rows, img.Columns = rows, cols
        img.BitsAllocated, img.BitsStored, img.HighBit, img.PixelRepresentation = 8, 8, 7, 0
        img.PixelData = (np.arange(rows * cols) % 251).astype(np.uint8).tobytes()
        ds = Dataset()
        ds.ImageBoxPosition = position
        ds.BasicGrayscaleImageSequence = [img]
        st, _ = self.assoc.send_n_set(ds, ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID,
                                      meta_uid=GRAY_META)
        return int(st.Status)

    def release(self) -> None:
        self.assoc.release()


class RawPrintScu:
    """A raw print SCU: remembers the instance UIDs the SCP assigns (from the N-CREATE-RSP)."""

    def __init__(self, port: int, color: bool = False, events: list | None = None) -> None:
        self.meta = COLOR_META if color else GRAY_META
        self.last_uid: str | None = None
        ae = AE(ae_title="TESTSCU")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
        for uid in (self.meta, PLUT, PRINT_JOB, ANNOTATION):
            ae.add_requested_context(uid, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        handlers = [(evt.EVT_DIMSE_RECV, self._recv)]
        if events is not None:
            def on_event(event):
                events.append((event.event_type, str(event.request.AffectedSOPInstanceUID),
                               str(event.event_information.get("ExecutionStatusInfo", ""))))
                return 0x0000, None
            handlers.append((evt.EVT_N_EVENT_REPORT, on_event))
        self.assoc = ae.associate("127.0.0.1", port, ae_title="VIEWERPRINT", evt_handlers=handlers)
        assert self.assoc.is_established

    def _recv(self, event) -> None:
        cs = event.message.command_set
        if "AffectedSOPInstanceUID" in cs and cs.CommandField == 0x8140:
            self.last_uid = str(cs.AffectedSOPInstanceUID)

    def create(self, ds: Dataset, class_uid: str, meta: bool = True):
        st, rsp = self.assoc.send_n_create(ds, class_uid, None, meta_uid=self.meta if meta else None)
        return int(st.Status), rsp, self.last_uid

    def session(self, **attrs) -> str:
        ds = Dataset()
        ds.NumberOfCopies = 1
        ds.FilmSessionLabel = "TEST"
        for k, v in attrs.items():
            setattr(ds, k, v)
        status, _rsp, uid = self.create(ds, FILM_SESSION)
        assert status == 0
        return uid

    def film_box(self, session_uid: str, fmt: str = "STANDARD\\2,1", **attrs):
        ds = Dataset()
        ds.ImageDisplayFormat = fmt
        ds.FilmSizeID = "8INX10IN"
        ref = Dataset()
        ref.ReferencedSOPClassUID = FILM_SESSION
        ref.ReferencedSOPInstanceUID = session_uid
        ds.ReferencedFilmSessionSequence = [ref]
        for k, v in attrs.items():
            setattr(ds, k, v)
        return self.create(ds, FILM_BOX)

    def set_box(self, ref: Dataset, ds: Dataset) -> int:
        st, _ = self.assoc.send_n_set(ds, ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID, meta_uid=self.meta)
        return int(st.Status)

    def action(self, class_uid: str, uid: str):
        st, reply = self.assoc.send_n_action(None, 1, class_uid, uid, meta_uid=self.meta)
        return int(st.Status), reply

    def release(self) -> None:
        self.assoc.release()


def gray_box(position: int, pixels: np.ndarray, **attrs) -> Dataset:
    """An image box of 8-bit (uint8 pixels) or 12-bit grayscale pixels at ``position``."""
    img = Dataset()
    img.SamplesPerPixel = 1
    img.PhotometricInterpretation = "MONOCHROME2"
    img.Rows, img.Columns = pixels.shape
    img.BitsAllocated = 8 if pixels.dtype == np.uint8 else 16
    img.BitsStored = 8 if pixels.dtype == np.uint8 else 12
    img.HighBit = img.BitsStored - 1
    img.PixelRepresentation = 0
    img.PixelData = pixels.astype("<u2" if img.BitsAllocated == 16 else np.uint8).tobytes()
    ds = Dataset()
    ds.ImageBoxPosition = position
    ds.BasicGrayscaleImageSequence = [img]
    for k, v in attrs.items():
        setattr(ds, k, v)
    return ds


def color_box(position: int, rgb: np.ndarray) -> Dataset:
    """An image box of 8-bit RGB pixels (color-by-pixel) at ``position``."""
    img = Dataset()
    img.SamplesPerPixel = 3
    img.PhotometricInterpretation = "RGB"
    img.PlanarConfiguration = 0
    img.Rows, img.Columns = rgb.shape[:2]
    img.BitsAllocated = img.BitsStored = 8
    img.HighBit = 7
    img.PixelRepresentation = 0
    img.PixelData = rgb.astype(np.uint8).tobytes()
    ds = Dataset()
    ds.ImageBoxPosition = position
    ds.BasicColorImageSequence = [img]
    return ds
