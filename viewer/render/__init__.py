"""render: stored pixel values to display images. Pure numpy, no Qt (house rule 1, docs/architecture.md).

Public API::

    params = params_from_dataset(ds, frame_index=0, voi_index=0)
    img = render(frame, params)           # uint8 (rows, cols) or (rows, cols, 3)
    hu = modality_values(frame, params)   # float32 modality values
    img = render_frame(path, frame_index=0, window=None)
    times = frame_times_ms(ds)
    layers = overlay_layers(ds, frame_index)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from viewer.render.cine import frame_times_ms
from viewer.render.dsparams import params_from_dataset
from viewer.render.overlays import OverlayInfo, overlay_info, overlay_layers
from viewer.render.params import LutData, Palette, RenderParams, VoiFunction, Window
from viewer.render.pipeline import current_window, modality_values, pin_window, render

__all__ = ["RenderParams", "Window", "LutData", "Palette", "VoiFunction", "params_from_dataset", "render",
           "modality_values", "render_frame", "frame_times_ms", "overlay_layers", "overlay_info", "OverlayInfo",
           "current_window", "pin_window"]


def render_frame(source: str | os.PathLike[str] | Any, frame_index: int = 0,
                 window: tuple[float, float] | None = None, voi_index: int = 0) -> np.ndarray:
    """Open ``source`` and render one frame as the viewport shows it by default.

    Parameters
    ----------
    source : str, os.PathLike, Dataset or FrameSource
        The image.
    frame_index : int
        0-based frame.
    window : (center, width), optional
        Explicit window instead of the file's.
    voi_index : int
        Which of the file's windows / VOI LUTs to use (see ``RenderParams.voi_options``).

    Returns
    -------
    numpy.ndarray
        uint8 ``(rows, cols)`` or ``(rows, cols, 3)``.

    Raises
    ------
    viewer.errors.ReadError, viewer.errors.DecodeError
        For unreadable files and undecodable pixel data.
    """
    from viewer.dicom.frames import FrameSource, open_frames

    src = source if isinstance(source, FrameSource) else open_frames(source)
    params = params_from_dataset(src.dataset, frame_index=frame_index, voi_index=voi_index)
    if window is not None:
        params = params.with_window(*window)
    return render(src.frame(frame_index), params)
