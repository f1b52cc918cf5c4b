"""``export PATH... -o DIR [--anonymize]``: copy DICOM images and series, optionally de-identified."""

from __future__ import annotations

import argparse
import logging

from viewer.errors import UsageError

HELP = "export DICOM files, series or media to a folder, optionally de-identified (PS3.15 E basic profile)"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``export`` options."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files, folders or a DICOMDIR")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="folder to write STUDY/SERIES/INSTANCE.dcm into")
    parser.add_argument("--anonymize", action="store_true",
                        help="remove patient identifiers and replace UIDs (PS3.15 E.1 basic profile)")
    parser.add_argument("--key-file", metavar="FILE",
                        help="with --anonymize: secret key file, so repeated exports map UIDs the same way "
                             "(default: a random key, exports not linkable)")
    parser.add_argument("--patient-name", default="ANONYMOUS", metavar="NAME",
                        help="with --anonymize: the Patient's Name written (default ANONYMOUS)")


def run(args: argparse.Namespace) -> int:
    """Export every instance found; returns 0, or 1 if some could not be exported."""
    from pathlib import Path

    from viewer.commands._common import existing_paths

    paths = existing_paths(args.paths)
    if args.key_file and not args.anonymize:
        raise UsageError("--key-file needs --anonymize")
    from viewer.dicom.anonymize import Options
    from viewer.dicom.scan import scan
    from viewer.tasks.export_dicom import export_instances

    opts = None
    if args.anonymize:
        if args.key_file:
            try:
                opts = Options(Path(args.key_file).read_bytes(), args.patient_name)
            except OSError as exc:
                raise UsageError(f"--key-file {args.key_file}: {exc.strerror or exc}") from None
        else:
            opts = Options.random(args.patient_name)
    sources, unreadable = [], 0
    for event in scan([str(p) for p in paths]):
        if event.kind == "error":
            unreadable += 1
            log.error("%s", event.error)
        elif event.kind == "instance" and event.instance is not None:
            inst = event.instance
            sources.append((str(inst.path), inst.study_instance_uid, inst.series_instance_uid, inst.sop_instance_uid))
    if not sources and not unreadable:
        raise UsageError("no DICOM instances found in the given paths")
    report = export_instances(sources, args.output, opts)
    return 1 if report.failed or unreadable else 0
