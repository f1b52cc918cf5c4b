"""Cine: frames shown in order at the times the file's Cine module gives (PS3.3 C.7.6.5).

The schedule is checked, not the machine's speed: each frame's due time must be the sum of
the Frame Time / Frame Time Vector values pydicom reads, no frame may appear before it is
due, and every frame appears once per loop in order.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.uid import XRayAngiographicImageStorage, generate_uid

from tests.helpers.instances import new_instance
from tests.helpers.ui import open_and_wait

pytestmark = pytest.mark.gui


def make_cine(path, frames=150, frame_time=20.0, rows=64, cols=64):
    ds = new_instance(XRayAngiographicImageStorage)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "XA", "CINE^TEST", "CINE1"
    ds.NumberOfFrames, ds.FrameTime = frames, frame_time
    ds.FrameIncrementPointer = pydicom.tag.Tag("FrameTime")
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    # Frame k has value k in its first pixel, so what is on screen names its frame.
    pix = np.full((frames, rows, cols), 40, np.uint8)
    pix[:, 0, 0] = np.arange(frames) % 256
    ds.PixelData = pix.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_150_frames_at_20_ms_play_in_order_on_schedule(qtbot, window, tmp_path) -> None:
    path = make_cine(tmp_path / "cine.dcm")
    open_and_wait(qtbot, window, path)
    vp = window.viewport
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert vp.frame_count == int(ds.NumberOfFrames) == 150
    player = vp.cine
    assert player.nominal_fps() == pytest.approx(1000.0 / float(ds.FrameTime))
    readouts: list[str] = []
    player.fps_measured.connect(lambda _fps: readouts.append(vp.fps_text))
    player.play()
    qtbot.waitUntil(lambda: len(player.shown) >= 150, timeout=30000)
    player.stop()
    shown = player.shown[:150]
    # Every frame once, in order, starting after the frame on screen and wrapping (loop).
    assert [k for k, _, _ in shown] == list(range(1, 150)) + [0]
    # Due times are the file's timing: frame n of the run is due at n * Frame Time.
    # A loaded machine may fall far behind and restart the clock (player.resyncs); every
    # other step must be exactly the file's Frame Time.
    dues = np.array([d for _, d, _ in shown])
    steps = [dues[i] - dues[i - 1] for i in range(1, len(dues)) if i not in player.resyncs]
    assert len(steps) >= 100
    np.testing.assert_allclose(steps, float(ds.FrameTime))
    assert all(t >= d - 1.0 for _, d, t in shown)  # never early
    # The readout reports what was shown.
    stats = player.stats()
    assert stats["frames"] == len(player.shown)
    assert readouts and all(t.endswith("fps (file 50.0)") for t in readouts)
    # What is on screen is the frame the player says it showed.
    k = vp.current.ref.frame_index
    assert int(vp.current.stored[0, 0]) == k % 256


def test_frame_time_vector_drives_the_schedule(qtbot, window, corpus) -> None:
    path = corpus / "synthetic" / "xa_frametimevector_8f.dcm"
    open_and_wait(qtbot, window, path)
    vp = window.viewport
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    vector = [float(v) for v in ds.FrameTimeVector]
    player = vp.cine
    player.play()
    qtbot.waitUntil(lambda: len(player.shown) >= 7, timeout=10000)
    player.stop()
    shown = player.shown[:7]
    assert [k for k, _, _ in shown] == list(range(1, 8))
    dues = [d for _, d, _ in shown]
    # Frame k is due Frame Time Vector[k] after frame k-1 (PS3.3 C.7.6.5.1.2).
    if not any(i < 7 for i in player.resyncs):
        np.testing.assert_allclose(dues, np.cumsum(vector[1:8]), atol=1e-6)


def test_bounce_and_override(qtbot, window, tmp_path) -> None:
    path = make_cine(tmp_path / "short.dcm", frames=5, frame_time=10.0)
    open_and_wait(qtbot, window, path)
    player = window.viewport.cine
    player.set_mode("bounce")
    player.set_fps(200.0)
    assert player.interval_ms(3) == pytest.approx(5.0)
    player.play()
    qtbot.waitUntil(lambda: len(player.shown) >= 10, timeout=10000)
    player.stop()
    assert [k for k, _, _ in player.shown[:10]] == [1, 2, 3, 4, 3, 2, 1, 0, 1, 2]
    with pytest.raises(ValueError):
        player.set_mode("sideways")
