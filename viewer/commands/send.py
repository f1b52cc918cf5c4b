"""``send``: send files or folders to a PACS by C-STORE, or to a DICOMweb service by STOW-RS."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from viewer.commands._dicomweb import add_web_arguments
from viewer.errors import NetError, UsageError

if TYPE_CHECKING:
    from viewer.net.storage_scu import StoreResult

HELP = "send DICOM files/folders (e.g. a CD) to a node (C-STORE) or a DICOMweb URL (STOW-RS)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = ("%(prog)s [options] HOST PORT FILE_OR_DIR...\n"
                    "       %(prog)s [options] URL FILE_OR_DIR...")
    parser.add_argument("target", nargs="+", metavar="HOST PORT | URL, FILE_OR_DIR",
                        help="peer host and port, or a DICOMweb base URL (http:// or https://), "
                             "then files or folders (searched recursively; non-DICOM files are skipped)")
    dimse = parser.add_argument_group("DIMSE (C-STORE)")
    dimse.add_argument("--aec", "-aec", default="ANY-SCP", metavar="AET", help="called AE title (default ANY-SCP)")
    dimse.add_argument("--aet", "-aet", default="VIEWER", metavar="AET", help="our AE title (default VIEWER)")
    dimse.add_argument("-j", "--associations", type=int, default=1, metavar="N",
                       help="parallel associations (default 1); hides the peer's per-instance latency")
    add_web_arguments(parser)
    ident = parser.add_argument_group("identity coercion (import of outside studies)")
    ident.add_argument("--patient-id", metavar="ID", help="new Patient ID; the old one goes to Other Patient IDs")
    ident.add_argument("--issuer", metavar="ISSUER", help="new Issuer of Patient ID")
    ident.add_argument("--accession", metavar="ACC", help="new Accession Number")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="network timeout (default 30)")
    parser.add_argument("--report", metavar="FILE.json", help="write a report of every instance sent")
    parser.add_argument("--resume", metavar="FILE.json",
                        help="skip the instances a previous --report lists as sent (may be the same file)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    allow_intermixed(parser)


def allow_intermixed(parser: argparse.ArgumentParser) -> None:
    """Accept options between positionals (``HOST PORT --aec X DIR``), as DCMTK tools do.

    The subparser is parsed by its parent through ``parse_known_args``; route that to
    ``parse_known_intermixed_args`` (which itself calls the original method).
    """
    original = parser.parse_known_args

    def intermixed(args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
                   ) -> tuple[argparse.Namespace, list[str]]:
        parser.parse_known_args = original  # type: ignore[method-assign]
        try:
            return parser.parse_known_intermixed_args(args, namespace)
        finally:
            parser.parse_known_args = intermixed  # type: ignore[method-assign, assignment]

    parser.parse_known_args = intermixed  # type: ignore[method-assign, assignment]


def _split_target(values: list[str]) -> tuple[str, int | None, list[str]]:
    """(host-or-url, port-or-None, paths) from the positional arguments."""
    from viewer.net.dicomweb import is_web_url

    if is_web_url(values[0]):
        if len(values) < 2:
            raise UsageError("no FILE_OR_DIR to send")
        return values[0], None, values[1:]
    if len(values) < 3:
        raise UsageError("expected HOST PORT FILE_OR_DIR... or URL FILE_OR_DIR...")
    try:
        port = int(values[1])
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise UsageError(f"invalid port: {values[1]}") from None
    return values[0], port, values[2:]


def run(args: argparse.Namespace) -> int:
    from viewer.commands._common import existing_paths
    from viewer.net.dicomweb import DicomWebClient, WebTarget
    from viewer.net.storage_scu import StoreTarget
    from viewer.tasks import send as task

    host, port, raw_paths = _split_target(args.target)
    if not 1 <= args.associations <= 16:
        raise UsageError("--associations must be 1..16")
    paths = existing_paths(raw_paths)
    items, skipped = task.collect(paths)
    if not items:
        raise UsageError("no DICOM files found in " + ", ".join(raw_paths))
    resume = task.load_sent(Path(args.resume)) if args.resume else None
    coerce = task.IdentityCoercion(args.patient_id, args.issuer, args.accession)
    if port is None:
        verify: bool | str = args.ca_bundle or not args.insecure
        web = WebTarget(host, args.user, args.password, args.token, verify, args.timeout)
        destination: DicomWebClient | StoreTarget = DicomWebClient(web)
    else:
        destination = StoreTarget(host, port, args.aec, args.aet, args.timeout)

    def progress(result: StoreResult, done: int, total: int) -> None:
        if args.verbose:
            print(f"I: [{done}/{total}] {result.item.path}: {result.category}"
                  + (f" ({result.message})" if result.message else ""), file=sys.stderr)

    report = task.send(destination, items, skipped=skipped, coerce=coerce, resume=resume,
                       report_path=Path(args.report) if args.report else None, progress=progress,
                       associations=args.associations)
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        for r in report.failed:
            print(f"E: {r.item.path}: {r.message}", file=sys.stderr)
        print(report.summary())
    if report.error:
        raise NetError(f"send stopped: {report.error} ({report.summary()})")
    if report.failed:
        raise NetError(f"{len(report.failed)} of {len(report.results)} instance(s) failed")
    return 0
