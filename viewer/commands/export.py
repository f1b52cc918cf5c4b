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
    from viewer.dicom.anonymize import Options, anonymize_file, output_name
    from viewer.dicom.scan import scan
    from viewer.errors import ViewerError
    from viewer.net.store import LocalStore

    opts = None
    if args.anonymize:
        if args.key_file:
            try:
                opts = Options(Path(args.key_file).read_bytes(), args.patient_name)
            except OSError as exc:
                raise UsageError(f"--key-file {args.key_file}: {exc.strerror or exc}") from None
        else:
            opts = Options.random(args.patient_name)
    store = LocalStore(args.output)
    done = failed = 0
    for event in scan([str(p) for p in paths]):
        if event.kind == "error":
            failed += 1
            log.error("%s", event.error)
            continue
        if event.kind != "instance" or event.instance is None:
            continue
        src = str(event.instance.path)
        try:
            if opts is None:
                data = Path(src).read_bytes()
                inst = event.instance
                store.write(data, inst.study_instance_uid, inst.series_instance_uid, inst.sop_instance_uid)
            else:
                ds = anonymize_file(src, opts)
                target = store.root / output_name(ds)
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(ds, target)
            done += 1
        except (ViewerError, OSError, ValueError) as exc:
            failed += 1
            log.error("cannot export %s: %s", src, exc)
    log.info("exported %d instance(s) to %s%s", done, store.root, " (de-identified)" if opts else "")
    if not done and not failed:
        raise UsageError("no DICOM instances found in the given paths")
    return 1 if failed else 0


def _write_atomic(ds, target) -> None:  # type: ignore[no-untyped-def]
    """Write to a temporary name in the same folder, then rename (no partial files)."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".partial-", suffix=".dcm", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            ds.save_as(fh, enforce_file_format=True)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
