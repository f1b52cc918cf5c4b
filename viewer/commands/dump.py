"""``dump IN... [--json] [--search TEXT]``: every element of a DICOM file, like dcmdump."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, TextIO

from viewer.commands._common import existing_paths
from viewer.errors import ReadError, UsageError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from viewer.dicom.dump import DumpNode

HELP = "print every element of DICOM files (dcmdump-like text, or DICOM JSON with --json)"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="IN", help="DICOM file(s) to dump")
    parser.add_argument("--json", action="store_true",
                        help="print the DICOM JSON model (PS3.18 F.2) instead of text")
    parser.add_argument("--search", metavar="TEXT",
                        help="print only elements whose keyword, tag (0008,0060 / 00080060) or value matches")
    parser.add_argument("--frame", type=int, metavar="N",
                        help="print only the Shared + Per-frame Functional Groups of frame N (1-based) "
                             "of an enhanced multi-frame file, with its diffusion parameters")
    parser.add_argument("--no-meta", action="store_true", help="leave out the File Meta Information (group 0002)")
    parser.add_argument("--meta", action="store_true",
                        help="with --json: also put the File Meta Information (group 0002) in the JSON model "
                             "(not conforming to the DICOM standard, PS3.18 F.2; as dcm2json +m)")
    parser.add_argument("--bulk", choices=("uri", "omit"), default="uri",
                        help="with --json: large binary values as BulkDataURI (default) or omitted")
    parser.add_argument("--bulk-threshold", type=int, default=1024, metavar="BYTES",
                        help="with --json: binary values larger than this are bulk data (default 1024)")


def _dump_one(path: str, args: argparse.Namespace, out: TextIO) -> bool:
    """Print the dump of ``path``; False when the file was damaged (partial dump)."""
    from viewer.dicom.dump import dump_file

    result = dump_file(path, include_meta=not args.no_meta)
    if args.json:
        from viewer.dicom.dump_json import to_json

        # PS3.18 F.2: the JSON model is the data set; group 0002 only on request (dcm2json +m).
        out.write(to_json(result.dataset, path=path, bulk=args.bulk, threshold=args.bulk_threshold,
                          include_meta=args.meta and not args.no_meta) + "\n")
    elif args.frame is not None:
        _dump_frame(result.dataset, args.frame, out)
    elif args.search:
        from viewer.dicom.dump_search import search
        from viewer.dicom.dump_text import text_line

        for node in search(result.nodes, args.search):
            out.write(text_line(node).lstrip() + _where(node) + "\n")
    else:
        from viewer.dicom.dump_text import dump_lines

        for line in dump_lines(result.nodes):
            out.write(line + "\n")
    if result.stopped:
        log.error("%s: %s", path, result.stopped)
        return False
    return True


def _dump_frame(ds: Dataset, frame: int, out: TextIO) -> None:
    from viewer.dicom.dump import iter_nodes
    from viewer.dicom.dump_text import text_line
    from viewer.dicom.functional_groups import diffusion_info, frame_nodes, has_functional_groups, number_of_frames

    n = number_of_frames(ds)
    if not has_functional_groups(ds):
        raise UsageError("--frame: this file has no Shared/Per-frame Functional Groups (PS3.3 C.7.6.16)")
    if not 1 <= frame <= n:
        raise UsageError(f"--frame {frame}: the file has {n} frame{'s' if n != 1 else ''}")
    info = diffusion_info(ds, frame - 1)
    out.write(f"# Frame {frame} of {n}" + (f": {info}" if info is not None else "") + "\n")
    for node in iter_nodes(frame_nodes(ds, frame - 1)):
        out.write(text_line(node) + "\n")


def _where(node: DumpNode) -> str:
    """`` in (5200,9230)[3] > (0018,9117)[0]`` for a nested node."""
    parts = []
    p = node.parent
    while p is not None:
        if p.kind.value == "item":
            parts.append(f"{p.parent.tag_text}[{p.row}]" if p.parent is not None else f"[{p.row}]")
            p = p.parent.parent if p.parent is not None else None
        else:
            p = p.parent
    return ("  in " + " > ".join(reversed(parts))) if parts else ""


def run(args: argparse.Namespace) -> int:
    if args.bulk_threshold < 0:
        raise UsageError("--bulk-threshold must be >= 0")
    paths = existing_paths(args.paths)
    if args.meta and not args.json:
        raise UsageError("--meta goes with --json (the text dump shows group 0002 unless --no-meta)")
    if args.meta and args.json and not args.no_meta:
        log.warning("--meta: File Meta Information in the JSON model is not conforming to the DICOM standard "
                    "(PS3.18 F.2)")
    out = sys.stdout
    ok = True
    many_json = args.json and len(paths) > 1
    if many_json:
        out.write("[\n")  # several files: a JSON array of data sets
    for i, path in enumerate(paths):
        if many_json and i:
            out.write(",\n")
        if path.is_dir():
            raise ReadError(f"{path}: is a directory (give DICOM files)", path=str(path))
        if len(paths) > 1 and not args.json:
            out.write(f"{'' if i == 0 else chr(10)}# {path}\n")
        try:
            ok = _dump_one(str(path), args, out) and ok
            out.flush()
        except ReadError as exc:
            if len(paths) == 1:
                raise
            log.error("%s", exc)
            ok = False
        except BrokenPipeError:  # `dump ... | head`: the reader has gone, stop quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    if many_json:
        out.write("]\n")
    return 0 if ok else 1
