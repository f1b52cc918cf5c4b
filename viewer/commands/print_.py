"""``print``: print DICOM images on a DICOM printer (Basic Print Management SCU, PS3.4 H)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

from viewer.commands._common import existing_paths
from viewer.errors import ReadError, UsageError

if TYPE_CHECKING:
    from viewer.film.profile import PrinterProfile

HELP = "print images on a DICOM printer: compose films, send them, report the job status"

log = logging.getLogger(__name__)


def _annotation(text: str) -> tuple[int, str]:
    pos, sep, value = text.partition("=")
    if not sep or not pos.strip().isdigit() or int(pos) < 1:
        raise argparse.ArgumentTypeError(f"expected POS=TEXT with POS >= 1, got {text!r}")
    return int(pos), value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("host", help="printer host name or address")
    p.add_argument("port", type=int, help="printer TCP port")
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="DICOM files, folders or DICOMDIRs; one image box per frame, in the browser's order "
                        "(patient, study, series, then position)")
    p.add_argument("--aec", metavar="AET", help="called AE title of the printer (default: the profile's)")
    p.add_argument("--aet", metavar="AET", help="our calling AE title (default: the profile's, else VIEWER)")
    p.add_argument("--printer", metavar="PROFILE",
                   help="printer profile name or .json file: the printer's limits are checked and applied "
                        "(default: none, every value is sent as given)")
    g = p.add_argument_group("film box (PS3.3 C.13.3)")
    g.add_argument("--layout", default="STANDARD\\1,1", metavar="FORMAT",
                   help="image display format: STANDARD\\C,R, ROW\\a,b,... or COL\\a,b,... (default STANDARD\\1,1)")
    g.add_argument("--film-size", default=None, metavar="ID", help="film size ID, e.g. 14INX17IN, A4")
    g.add_argument("--orientation", default="PORTRAIT", type=str.upper, choices=("PORTRAIT", "LANDSCAPE"))
    g.add_argument("--magnification", metavar="TYPE", help="REPLICATE, BILINEAR, CUBIC or NONE")
    g.add_argument("--smoothing", metavar="TYPE", help="smoothing type (printer specific)")
    g.add_argument("--border-density", metavar="D", help="BLACK, WHITE or hundredths of OD")
    g.add_argument("--empty-density", metavar="D", help="empty image density: BLACK, WHITE or hundredths of OD")
    g.add_argument("--min-density", type=int, metavar="N", help="minimum density, hundredths of OD")
    g.add_argument("--max-density", type=int, metavar="N", help="maximum density, hundredths of OD")
    g.add_argument("--trim", choices=("YES", "NO"), type=str.upper)
    g.add_argument("--config-info", metavar="TEXT", help="configuration information (vendor specific)")
    g.add_argument("--resolution", metavar="ID", help="requested resolution ID: STANDARD or HIGH")
    g = p.add_argument_group("film session (PS3.3 C.13.1)")
    g.add_argument("--copies", type=int, default=1, metavar="N")
    g.add_argument("--priority", type=str.upper, choices=("HIGH", "MED", "LOW"))
    g.add_argument("--medium", metavar="TYPE", help="medium type, e.g. 'BLUE FILM', PAPER")
    g.add_argument("--destination", metavar="DEST", help="film destination, e.g. MAGAZINE, PROCESSOR")
    g.add_argument("--label", metavar="TEXT", help="film session label")
    g = p.add_argument_group("images (PS3.3 C.13.5)")
    g.add_argument("--bits", type=int, choices=(8, 12), default=12, help="bits per pixel sent (default 12)")
    g.add_argument("--color", action="store_true", help="print color images in color (Basic Color Print)")
    g.add_argument("--polarity", type=str.upper, choices=("NORMAL", "REVERSE"), default="NORMAL")
    g.add_argument("--window", nargs=2, type=float, metavar=("C", "W"), help="window center and width")
    g.add_argument("--true-size", action="store_true",
                   help="request true size (Requested Image Size from Pixel Spacing)")
    g.add_argument("--annotation", action="append", type=_annotation, default=[], metavar="POS=TEXT",
                   help="annotation box text ({page} and {pages} are replaced); repeatable")
    g.add_argument("--burn-in", action="store_true",
                   help="write patient, study date, series/image number into each image's pixels")
    g.add_argument("--annotation-format", metavar="ID", help="annotation display format ID")
    g.add_argument("--presentation-lut", type=lambda s: s.upper().replace(" ", "_"),
                   choices=("IDENTITY", "LIN_OD", "NONE"), default="IDENTITY",
                   help="Presentation LUT shape, or NONE (default IDENTITY)")
    g = p.add_argument_group("protocol")
    g.add_argument("--adapt", action=argparse.BooleanOptionalAction, default=True,
                   help="when the printer refuses a value, retry in the same association without it or with "
                        "what the printer takes (Presentation LUT level, 8 bit, its default film size or layout, "
                        "annotations as label or burnt in) and report what changed (default: adapt)")
    g.add_argument("--timeout", type=float, default=30.0, metavar="S", help="bound of every wait (default 30)")
    g.add_argument("--job-timeout", type=float, default=60.0, metavar="S",
                   help="how long to follow the print job status (default 60)")
    g.add_argument("--no-job-status", action="store_true", help="do not propose Print Job or follow the job")
    # Same TLS options as the other network commands (viewer.commands._netargs).
    tls = p.add_argument_group("TLS (PS3.15 B.9)")
    tls.add_argument("--tls", action="store_true", help="use TLS (default: the profile's setting)")
    tls.add_argument("--tls-ca", metavar="PEM", default="", help="CA certificates to verify the printer")
    tls.add_argument("--tls-cert", metavar="PEM", default="", help="our certificate (client authentication)")
    tls.add_argument("--tls-key", metavar="PEM", default="", help="private key of --tls-cert")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _with_tls(prof: PrinterProfile, args: argparse.Namespace) -> PrinterProfile:
    """The profile with the command line's TLS options laid over its own."""
    import dataclasses
    import os

    changes: dict[str, Any] = {}
    if args.tls or args.tls_ca or args.tls_cert:
        changes["tls"] = True
    for opt, key in (("tls_ca", "tls_ca_file"), ("tls_cert", "tls_cert_file"), ("tls_key", "tls_key_file")):
        value = getattr(args, opt)
        if value:
            if not os.path.isfile(value):
                raise UsageError(f"--{opt.replace('_', '-')}: no such file {value}")
            changes[key] = value
    if args.tls_key and not args.tls_cert and not prof.tls_cert_file:
        raise UsageError("--tls-key needs --tls-cert")
    return dataclasses.replace(prof, **changes) if changes else prof


def _profile(args: argparse.Namespace) -> PrinterProfile:
    return _with_tls(_base_profile(args), args)


def _base_profile(args: argparse.Namespace) -> PrinterProfile:
    import dataclasses
    from pathlib import Path

    from viewer.film.profile import learned_profile, load_profile, load_profiles, permissive_profile

    if args.printer:
        if args.printer.endswith(".json"):
            prof = load_profile(Path(args.printer))
        else:
            profiles = load_profiles()
            if args.printer not in profiles:
                raise UsageError(f"no printer profile {args.printer!r}: one of {', '.join(profiles) or '(none)'}")
            prof = profiles[args.printer]
        changes = {"host": args.host, "port": args.port}
        if args.aec:
            changes["ae_title"] = args.aec
        if args.aet:
            changes["calling_ae_title"] = args.aet
        return dataclasses.replace(prof, **changes)
    if not args.aec:
        raise UsageError("--aec AET (the printer's AE title) is required without --printer")
    # What earlier jobs learnt from this printer's refusals (saved as "AE@host:port").
    learnt = learned_profile(args.host, args.port, args.aec) if args.adapt else None
    if learnt is not None:
        log.info("using what was learnt of printer %s (profile %s)", args.aec, learnt.name)
        return dataclasses.replace(learnt, calling_ae_title=args.aet or learnt.calling_ae_title)
    return permissive_profile(args.host, args.port, args.aec, args.aet or "VIEWER")


def run(args: argparse.Namespace) -> int:
    from viewer.film.enums import FilmOrientation, Polarity, PresentationLUTShape, PrintPriority
    from viewer.film.layout import parse_display_format
    from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
    from viewer.tasks.print_queue import JobStore, run_job

    if not 0 < args.port < 65536:
        raise UsageError(f"bad port {args.port}")
    if args.copies < 1:
        raise UsageError("--copies must be at least 1")
    parse_display_format(args.layout)
    profile = _profile(args)
    from viewer.tasks.print_films import images_for_print

    refs, errors = images_for_print(existing_paths(args.files))
    for e in errors:
        log.warning("not printed: %s", e)
    if not refs:
        if errors:
            raise ReadError(f"nothing to print: {errors[0]}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1
                                                               else ""))
        raise UsageError("nothing to print: no images in " + ", ".join(args.files))
    if args.window:
        import dataclasses

        refs = [dataclasses.replace(r, window=(float(args.window[0]), float(args.window[1]))) for r in refs]
    box = FilmBoxSpec(display_format=args.layout, orientation=FilmOrientation(args.orientation),
                      film_size=args.film_size, magnification=args.magnification, smoothing=args.smoothing,
                      border_density=args.border_density, empty_image_density=args.empty_density,
                      min_density=args.min_density, max_density=args.max_density, trim=args.trim,
                      configuration_information=args.config_info, resolution_id=args.resolution,
                      annotation_display_format_id=args.annotation_format)
    session = FilmSessionSpec(copies=args.copies, priority=PrintPriority(args.priority) if args.priority else None,
                              medium_type=args.medium, film_destination=args.destination, label=args.label)
    plut = None if args.presentation_lut == "NONE" else PresentationLUTShape[args.presentation_lut]
    options = {"bits": args.bits, "color": args.color, "polarity": Polarity(args.polarity),
               "true_size": args.true_size, "annotations": dict(args.annotation), "presentation_lut": plut,
               "burn_in": args.burn_in}
    # The job goes into the application's print queue, so the GUI's queue window lists it
    # (with the films printed) even when this program is stopped in the middle.
    try:
        store = JobStore()
        job = store.add(refs, box, session, profile, options, adapt=args.adapt)
    except OSError as exc:
        import tempfile
        from pathlib import Path

        log.warning("print queue not writable (%s): this job is not kept in the queue's history", exc)
        store = JobStore(Path(tempfile.mkdtemp(prefix="dicom-viewer-print-")) / "print-queue.json")
        job = store.add(refs, box, session, profile, options, adapt=args.adapt)
    report = run_job(store, job.id, timeout=args.timeout, job_timeout=args.job_timeout,
                     follow_job=not args.no_job_status)
    if args.json:
        json.dump(report.to_dict() | {"job": job.id, "images": len(refs)}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"printer {report.printer}: status {report.printer_status or '?'}"
              + (f" ({report.printer_status_info})" if report.printer_status_info else ""))
        for f in report.films:
            info = f" ({f.execution_status_info})" if f.execution_status_info else ""
            print(f"film {f.number}: {f.image_boxes} image boxes, {f.execution_status}{info}")
        for a in report.adapted:
            print(f"adapted: {a}")
        for w in report.warnings:
            print(f"warning: {w}")
    return 0 if report.ok else 1
