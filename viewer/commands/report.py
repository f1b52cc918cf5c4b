"""``report SR.dcm``: print a structured report (or list what a DICOM document holds)."""

from __future__ import annotations

import argparse
import sys

from viewer.errors import ReadError

HELP = "print a DICOM structured report (SR) as text or HTML"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``report`` options."""
    parser.add_argument("input", metavar="SR.dcm", help="an SR document (Basic/Enhanced/Comprehensive/KO ...)")
    parser.add_argument("--format", choices=("text", "html"), default="text", help="output format (default text)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def run(args: argparse.Namespace) -> int:
    """Read the SR, format it, write it; returns 0."""
    from viewer.commands._common import existing_paths
    from viewer.dicom.frames import read_dataset
    from viewer.dicom.sr import is_structured_report, read_report
    from viewer.dicom.sr_report import to_html, to_text

    existing_paths([args.input])
    ds = read_dataset(args.input, defer=False)
    if not is_structured_report(ds):
        sop = ds.get("SOPClassUID")
        raise ReadError(f"{args.input} is not a structured report ({getattr(sop, 'name', sop) or 'no SOP class'})",
                        path=args.input)
    report = read_report(ds)
    text = to_html(report) if args.format == "html" else to_text(report)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise ReadError(f"cannot write {args.output}: {exc.strerror}", path=args.output) from None
    else:
        sys.stdout.write(text)
    return 0
