"""The virtual printer dialog: start the server, print to it, see the count, open the folder, stop."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE

from tests.helpers.peers import c_echo, free_port

pytestmark = pytest.mark.gui

GRAY_META = "1.2.840.10008.5.1.1.9"
FILM_SESSION, FILM_BOX = "1.2.840.10008.5.1.1.1", "1.2.840.10008.5.1.1.2"


def print_one_film(port: int) -> None:
    """The PS3.4 H flow of pynetdicom's print example: session, film box, image box, N-ACTION."""
    ae = AE(ae_title="UITEST")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.add_requested_context(GRAY_META)
    assoc = ae.associate("127.0.0.1", port, ae_title="VIEWERPRINT")
    assert assoc.is_established
    try:
        fs = Dataset()
        fs.FilmSessionLabel = "UI"
        fs_uid = "1.2.826.0.1.3680043.8.498.1001"
        st, _ = assoc.send_n_create(fs, FILM_SESSION, fs_uid, meta_uid=GRAY_META)
        assert st.Status == 0
        fb = Dataset()
        fb.ImageDisplayFormat = "STANDARD\\1,1"
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = FILM_SESSION, fs_uid
        fb.ReferencedFilmSessionSequence = [ref]
        fb_uid = "1.2.826.0.1.3680043.8.498.1002"
        st, rsp = assoc.send_n_create(fb, FILM_BOX, fb_uid, meta_uid=GRAY_META)
        assert st.Status == 0
        box = rsp.ReferencedImageBoxSequence[0]
        img = Dataset()
        img.SamplesPerPixel, img.PhotometricInterpretation = 1, "MONOCHROME2"
        img.Rows = img.Columns = 16
        img.BitsAllocated, img.BitsStored, img.HighBit, img.PixelRepresentation = 8, 8, 7, 0
        img.PixelData = np.arange(256, dtype=np.uint8).tobytes()
        ib = Dataset()
        ib.ImageBoxPosition = 1
        ib.BasicGrayscaleImageSequence = [img]
        st, _ = assoc.send_n_set(ib, box.ReferencedSOPClassUID, box.ReferencedSOPInstanceUID, meta_uid=GRAY_META)
        assert st.Status == 0
        st, _ = assoc.send_n_action(None, 1, FILM_BOX, fb_uid, meta_uid=GRAY_META)
        assert st.Status == 0
    finally:
        assoc.release()


def test_start_print_open_stop(qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    from viewer.ui.virtual_printer import VirtualPrinterDialog

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    dlg = VirtualPrinterDialog(out_dir=tmp_path / "films")
    qtbot.addWidget(dlg)
    port = free_port()
    dlg.port.setValue(port)
    dlg.bind.setText("127.0.0.1")
    dlg.dpi.setValue(50)
    with qtbot.waitSignal(dlg.running_changed, timeout=15000):
        dlg.start_button.click()
    assert dlg.start_button.text() == "Stop" and not dlg.port.isEnabled()
    assert c_echo(port, "VIEWERPRINT") == 0
    print_one_film(port)
    qtbot.waitUntil(lambda: "1 film(s) printed" in dlg.status.text(), timeout=15000)
    qtbot.waitUntil(lambda: "N-ACTION" in dlg.activity.toPlainText(), timeout=15000)
    assert len(list((tmp_path / "films").glob("*/film-1.png"))) == 1
    dlg.open_button.click()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path / "films")]
    with qtbot.waitSignal(dlg.running_changed, timeout=15000):
        dlg.start_button.click()
    assert dlg.start_button.text() == "Start" and dlg.port.isEnabled()
    assert c_echo(port, "VIEWERPRINT", timeout=1) is None


def test_port_taken_shows_reason(qtbot, tmp_path):
    import socket

    from viewer.ui.virtual_printer import VirtualPrinterDialog

    dlg = VirtualPrinterDialog(out_dir=tmp_path)
    qtbot.addWidget(dlg)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        dlg.port.setValue(busy.getsockname()[1])
        dlg.bind.setText("127.0.0.1")
        assert dlg.start() is False
    assert "Not started" in dlg.status.text() and dlg.server is None
    dlg.shutdown()  # harmless when stopped
