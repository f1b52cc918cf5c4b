"""A pynetdicom print SCU for the print SCP's hardening tests: a film session, a film box and
image boxes of a chosen size (PS3.4 H), answering with the status the SCP sends."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, evt

GRAY_META = "1.2.840.10008.5.1.1.9"
FILM_SESSION, FILM_BOX = "1.2.840.10008.5.1.1.1", "1.2.840.10008.5.1.1.2"


class PrintScu:
    def __init__(self, port: int) -> None:
        ae = AE(ae_title="HOSTILE")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
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
