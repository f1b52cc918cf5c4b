"""``render IN -o OUT.png``: write what the viewport shows for one frame as an 8-bit PNG."""

from __future__ import annotations

import argparse
import logging

from typing import TYPE_CHECKING

from viewer.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

HELP = "render one frame of a DICOM image to an 8-bit grayscale or RGB PNG"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``render`` options."""
    from viewer.commands import _render_mpr, _render_pstate

    parser.add_argument("input", metavar="IN", help="DICOM file (with --plane: a series folder, files or DICOMDIR)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.png", help="PNG file to write")
    parser.add_argument("--frame", type=int, default=1, metavar="N", help="frame number, 1-based (default 1)")
    parser.add_argument("--window", type=float, nargs=2, metavar=("CENTER", "WIDTH"),
                        help="explicit window center and width in modality units (e.g. HU)")
    parser.add_argument("--voi", type=int, default=1, metavar="K",
                        help="use the K-th window / VOI LUT of the file, 1-based (windows first)")
    parser.add_argument("--no-overlays", action="store_true", help="do not draw overlay planes")
    parser.add_argument("--dpi", type=float, default=150.0, help="resolution of PDF pages (default 150)")
    _render_mpr.add_arguments(parser)
    _render_pstate.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Render and write the PNG; returns 0."""
    from viewer.commands._common import existing_paths

    existing_paths([args.input])
    if args.window is not None and args.window[1] <= 0:
        raise UsageError(f"--window width must be > 0, got {args.window[1]:g}")
    if args.plane is not None:
        from viewer.commands._render_mpr import run_plane

        return run_plane(args)
    if args.voi < 1:
        raise UsageError("--voi counts from 1")
    if args.pstate is not None:
        from viewer.commands._render_pstate import run_pstate

        return run_pstate(args)

    from viewer.dicom.document import is_encapsulated_document
    from viewer.dicom.frames import open_frames, read_dataset
    from viewer.render import overlay_layers, params_from_dataset, render

    head = read_dataset(args.input)
    if is_encapsulated_document(head):  # Encapsulated PDF (PS3.3 A.45): --frame is the page
        from viewer.commands._render_document import run_document

        return run_document(args, read_dataset(args.input, defer=False))
    src = open_frames(head)
    if not 1 <= args.frame <= src.num_frames:
        raise UsageError(f"--frame {args.frame} out of range: the image has {src.num_frames} frame(s)")
    index = args.frame - 1
    try:
        params = params_from_dataset(src.dataset, frame_index=index, voi_index=args.voi - 1)
    except IndexError:
        raise UsageError(f"--voi {args.voi}: the image has only "
                         f"{len(params_from_dataset(src.dataset, index).voi_options)} window(s)/VOI LUT(s)") from None
    if args.window is not None:
        params = params.with_window(*args.window)
    img = render(src.frame(index), params)
    if not args.no_overlays:
        img = _burn_overlays(img, overlay_layers(src.dataset, index, frames=src))
    write_png(img, args.output)
    log.info("wrote %s (%s, %dx%d)", args.output, params.voi_description or "color", img.shape[1], img.shape[0])
    return 0


def _burn_overlays(img: "np.ndarray", layers: "list[np.ndarray]") -> "np.ndarray":
    """Draw overlay masks in white on a copy of the image (the CLI has no layers)."""
    if not layers:
        return img
    import numpy as np

    out = img.copy()
    for mask in layers:
        if mask.shape == out.shape[:2]:
            out[mask] = 255
    return np.ascontiguousarray(out)


def write_png(img: "np.ndarray", path: str) -> None:
    """Write an 8-bit grayscale or RGB array as PNG (a clear error if the file cannot be written)."""
    from PIL import Image

    from viewer.errors import ViewerError

    try:
        Image.fromarray(img).save(path, format="PNG")  # uint8 2-D -> "L", (h, w, 3) -> "RGB"
    except (OSError, ValueError) as exc:
        raise ViewerError(f"cannot write {path}: {exc}") from None
