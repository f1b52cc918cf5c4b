"""``render SERIES --plane P``: one reformatted plane (or slab) of a series, as an 8-bit PNG."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

from viewer.errors import UsageError

log = logging.getLogger(__name__)

PLANES = ("axial", "coronal", "sagittal")
MODES = ("mip", "minip", "avg")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The MPR options of ``render``."""
    group = parser.add_argument_group("multiplanar reconstruction (IN is a series folder, files or a DICOMDIR)")
    group.add_argument("--plane", choices=PLANES,
                       help="reformat the largest CT/MR stack under IN onto this plane")
    group.add_argument("--slice", type=int, metavar="N",
                       help="plane number along the plane's normal, 1-based (default: the middle plane)")
    group.add_argument("--slab", type=float, default=0.0, metavar="MM", help="slab thickness in mm (default 0)")
    group.add_argument("--mode", choices=MODES, default="mip", help="slab projection (default mip)")
    group.add_argument("--angle", type=float, default=0.0, metavar="DEG",
                       help="oblique: turn the plane by DEG about the axial normal "
                            "(coronal/sagittal) or the coronal normal (axial)")
    group.add_argument("--series", metavar="UID", help="the series to reformat (default: the largest stack)")


def run_plane(args: argparse.Namespace) -> int:
    """Build the volume, cut the plane, render it with the series' window, write the PNG."""
    from viewer.dicom.volume_io import load_volume
    from viewer.render import params_from_dataset, render
    from viewer.render.mpr import Plane, SlabMode, reformat, rotated_plane, square_pixels

    if args.slab < 0:
        raise UsageError(f"--slab must be >= 0, got {args.slab:g}")
    loaded = load_volume(args.input, series_uid=args.series)
    volume = loaded.volume
    plane, mode = Plane(args.plane), SlabMode(args.mode)
    if args.angle:
        if args.slice is not None:
            raise UsageError("--slice and --angle cannot be combined (an oblique plane passes through the centre)")
        about = Plane.CORONAL if plane is Plane.AXIAL else Plane.AXIAL
        cut = rotated_plane(volume, plane, args.angle, about=about, slab_mm=args.slab, mode=mode)
    else:
        index = None if args.slice is None else args.slice - 1
        try:
            cut = reformat(volume, plane, index, slab_mm=args.slab, mode=mode)
        except IndexError as exc:
            raise UsageError(f"--slice {args.slice}: {exc}") from None
    params = params_from_dataset(loaded.dataset)
    if loaded.modality_values:  # voxels already carry the rescale (PS3.3 C.11.1)
        params = replace(params, rescale_slope=1.0, rescale_intercept=0.0, modality_lut=None)
    if args.window is not None:
        params = params.with_window(*args.window)
    shown = square_pixels(cut)
    img = render(shown.pixels, params)
    from viewer.commands.render import write_png

    write_png(img, args.output)
    labels = cut.labels or ("?", "?", "?", "?")
    where = "oblique" if cut.index < 0 else f"{cut.index + 1}/{cut.count}"
    log.info("wrote %s: %s plane %s, %dx%d, %.3g x %.3g mm pixels, top %s left %s%s", args.output, plane.value,
             where, img.shape[1], img.shape[0], cut.spacing[0], cut.spacing[1], labels[0], labels[2],
             f", {args.mode} slab {args.slab:g} mm" if args.slab else "")
    return 0
