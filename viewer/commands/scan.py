"""``scan PATH... [--json]``: list patients, studies, series and unreadable files."""

from __future__ import annotations

import argparse

HELP = "list the patients, studies and series in files, folders, DICOMDIRs or ZIPs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, folder, DICOMDIR or ZIP archive")
    parser.add_argument("--json", action="store_true", help="print the tree as JSON")
    parser.add_argument("--no-dicomdir", action="store_true",
                        help="read every file even where a DICOMDIR lists them")
    parser.add_argument("--headers", action="store_true",
                        help="after listing a DICOMDIR, read every file's header too (geometry, spacing)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="threads reading headers ahead, for slow media (default 1)")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from viewer.commands._common import existing_paths
    from viewer.commands._scan_report import tree_to_dict, tree_to_text
    from viewer.dicom.scan import load_headers, load_tree

    paths = existing_paths(args.paths)
    tree = load_tree(paths, use_dicomdir=not args.no_dicomdir, workers=max(1, args.workers))
    if args.headers:
        pending = [i for s in tree.iter_series() for i in s.instances if not i.header_loaded]
        for record, header, error in load_headers(pending):
            if header is not None:
                tree.add(header)
            elif error:
                tree.add_error(record.path or "", error)
    if args.json:
        json.dump(tree_to_dict(tree), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(tree_to_text(tree))
    return 0
