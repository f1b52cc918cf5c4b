"""``render IMAGE --pstate GSPS.dcm -o OUT.png``: one frame as a presentation state shows it."""

from __future__ import annotations

import argparse
import logging

from viewer.errors import UsageError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pstate", metavar="GSPS.dcm",
                        help="apply a Grayscale Softcopy Presentation State (VOI, Presentation LUT, displayed "
                             "area, rotation/flip, shutters, overlays, annotations)")
    parser.add_argument("--no-annotations", action="store_true",
                        help="with --pstate: do not draw its graphic annotations")
    parser.add_argument("--no-area", action="store_true",
                        help="with --pstate: the whole image instead of the displayed area")


def run_pstate(args: argparse.Namespace) -> int:
    """Render frame ``--frame`` of ``args.input`` through ``args.pstate``; returns 0."""
    from viewer.commands._common import existing_paths
    from viewer.commands.render import write_png
    from viewer.dicom.frames import open_frames, read_dataset
    from viewer.dicom.pstate import read_pstate
    from viewer.render import overlay_layers, params_from_dataset
    from viewer.render.overlays import overlay_groups
    from viewer.render.pstate import present

    existing_paths([args.pstate])
    if args.window is not None:
        raise UsageError("--window and --pstate: the presentation state sets the window")
    src = open_frames(read_dataset(args.input))
    if not 1 <= args.frame <= src.num_frames:
        raise UsageError(f"--frame {args.frame} out of range: the image has {src.num_frames} frame(s)")
    ds = src.dataset
    sop = str(ds.get("SOPInstanceUID", "") or "")
    signed = str(ds.get("PixelRepresentation", 0) or 0).strip() == "1"
    ps = read_pstate(read_dataset(args.pstate, defer=False), signed_image=signed)
    if not ps.references(sop, args.frame):
        log.warning("%s does not reference this image (frame %d); applied anyway", args.pstate, args.frame)
    params = params_from_dataset(ds, frame_index=args.frame - 1)
    if params.is_color:
        raise UsageError("a Grayscale Softcopy Presentation State cannot be applied to a colour image")
    layers = dict(zip(overlay_groups(ds), overlay_layers(ds, args.frame - 1, frames=src)))
    img = present(src.frame(args.frame - 1), params, ps, sop, args.frame, layers,
                  annotations=not args.no_annotations, use_area=not args.no_area)
    write_png(img, args.output)
    log.info("wrote %s (presentation state %s, %dx%d)", args.output, ps.label or ps.sop_instance_uid,
             img.shape[1], img.shape[0])
    return 0
