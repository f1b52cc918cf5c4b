"""``library import|list|search|priors|remove|rebuild|export``: the study library, headless."""

from __future__ import annotations

import argparse
import logging
from typing import Any

HELP = "the study library: import media, list, search, priors, remove, rebuild, export a CD"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", help="library database (default: library.sqlite in the data folder)")
    parser.add_argument("--store", metavar="DIR", help="local store folder (default: the data folder's store)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))

    p = sub.add_parser("import", help="index files, folders, DICOMDIRs or ZIPs (referenced in place)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--copy", action="store_true", help="copy the files into the local store")
    p.add_argument("--json", action="store_true", help="print what changed as JSON")

    p = sub.add_parser("list", help="patients > studies > series with instance counts")
    _add_filters(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("search", help="studies matching TEXT (name in any component group, ID, accession, "
                                      "description; * and ? wildcards)")
    p.add_argument("text", metavar="TEXT")
    _add_filters(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("priors", help="other studies of the patient of STUDY_UID")
    p.add_argument("study_uid", metavar="STUDY_UID")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("remove", help="forget studies; delete only their files in the local store")
    p.add_argument("study_uids", nargs="+", metavar="STUDY_UID")

    sub.add_parser("rebuild", help="recreate the database from the local store (damaged or deleted database)")

    p = sub.add_parser("export", help="write studies as a DICOM file set (PS3.11 General Purpose CD-R) to burn")
    p.add_argument("study_uids", nargs="+", metavar="STUDY_UID")
    p.add_argument("--out", required=True, metavar="DIR", help="empty (or new) folder for the file set")
    p.add_argument("--anonymize", action="store_true", help="de-identify (PS3.15 E.1 basic profile)")
    p.add_argument("--key-file", metavar="FILE", help="with --anonymize: key for repeatable UID replacement")
    p.add_argument("--with-viewer", action="store_true",
                   help="add the one-folder viewer bundle (packaging/build-frozen.sh output) and an autorun.inf")
    p.add_argument("--bundle", metavar="DIR", help="the viewer bundle folder (default: dist/dicom-viewer)")
    p.add_argument("--label", default="DICOM_CD", metavar="TEXT", help="File-set ID / volume label (default DICOM_CD)")


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--patient", default="", metavar="TEXT", help="patient name words (any component group)")
    p.add_argument("--id", dest="patient_id", default="", metavar="TEXT", help="Patient ID")
    p.add_argument("--accession", default="", metavar="TEXT", help="Accession Number")
    p.add_argument("--modality", default="", metavar="M", help="a series of this modality (CT, MR...)")
    p.add_argument("--date", default="", metavar="RANGE",
                   help="study date: 2003-05-05, 2003-05-01..2003-05-31, 20030501-20030531, today, last 7 days")
    p.add_argument("--description", default="", metavar="TEXT", help="study or series description")
    p.add_argument("--check", action="store_true", help="check which files are there first (offline media)")


def _filter(args: argparse.Namespace, text: str = "") -> Any:
    from viewer.dicom.daterange import parse_date_range
    from viewer.errors import UsageError
    from viewer.library import StudyFilter

    try:
        dates = parse_date_range(args.date)
    except ValueError as exc:
        raise UsageError(f"--date: {exc}") from None
    return StudyFilter(text=text, patient=args.patient, patient_id=args.patient_id, accession=args.accession,
                       date_from=dates.start, date_to=dates.end, modality=args.modality,
                       description=args.description)


def _print_json(data: object) -> None:
    import json
    import sys

    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _study_line(s: Any) -> str:
    from viewer.dicom.model import format_date, format_person_name

    flags = (" [offline]" if s.offline else "") + (" [guess: same name and birth date]" if s.guess else "")
    return (f"{format_date(s.study_date) or '(no date)'}  {'/'.join(s.modalities) or '??':8} "
            f"{format_person_name(s.patient_name) or '(no name)'} [{s.patient_id}]  "
            f"{s.study_description or '(no description)'}  {s.series_count} series, {s.instances} instances"
            f"{flags}  {s.study_instance_uid}")


def run(args: argparse.Namespace) -> int:
    import sqlite3

    from viewer.library import Library, LibraryError

    if args.action == "rebuild":
        return _rebuild(args)
    with Library(args.db, store_root=args.store) as lib:
        try:
            return int(_ACTIONS[args.action](args, lib))
        except sqlite3.DatabaseError as exc:  # a page damaged past the header
            raise LibraryError(f"the library database {lib.path} is damaged ({exc}); "
                               "run 'dicom-viewer library rebuild'") from exc


def _import(args: argparse.Namespace, lib: Any) -> int:
    import sys

    from viewer.commands._common import existing_paths
    from viewer.tasks.library import index_paths

    paths = existing_paths(args.paths)
    done = [0]

    def progress(report: Any) -> None:  # one line per committed batch with -v
        done[0] += report.added + report.updated + report.unchanged
        log.info("%d instance(s) indexed", done[0])

    result = index_paths(lib, paths, copy=args.copy, on_batch=progress)
    r = result.report
    for path, error in result.errors:
        print(f"dicom-viewer: warning: {path}: {error}", file=sys.stderr)
    if args.json:
        _print_json({"added": r.added, "updated": r.updated, "unchanged": r.unchanged, "studies": sorted(r.studies),
                     "errors": [{"path": p, "error": e} for p, e in result.errors], "missing": result.missing,
                     "library": lib.counts()})
    else:
        print(f"{r.added} instance(s) added, {r.updated} updated, {r.unchanged} unchanged, in {len(r.studies)} "
              f"study(ies); {len(result.errors)} error(s){'; copied into ' + str(lib.store_root) if args.copy else ''}")
    return 0


def _list(args: argparse.Namespace, lib: Any, text: str = "") -> int:
    from viewer.dicom.model import format_date, format_person_name
    from viewer.library import query

    if args.check:
        lib.refresh_online()
    patients = query.tree(lib.conn, _filter(args, text))
    if args.json:
        _print_json({"patients": patients})
        return 0
    for p in patients:
        print(f"Patient {format_person_name(p['patient_name']) or '(no name)'} [{p['patient_id']}]"
              + (f" issuer {p['issuer_of_patient_id']}" if p["issuer_of_patient_id"] else "")
              + (f" born {format_date(p['patient_birth_date'])}" if p["patient_birth_date"] else ""))
        for st in p["studies"]:
            print(f"  Study {format_date(st['study_date']) or '(no date)'} "
                  f"{st['study_description'] or '(no description)'}  {'/'.join(st['modalities'])}  "
                  f"{st['study_instance_uid']}" + ("  [offline]" if st["offline"] else ""))
            for se in st["series"]:
                print(f"    Series {se['series_number'] if se['series_number'] is not None else '-'} "
                      f"{se['modality'] or '??'} {se['series_description']!r}: {se['instances']} instances, "
                      f"{se['frames']} frames" + ("  [offline]" if se["offline"] else ""))
    return 0


def _search(args: argparse.Namespace, lib: Any) -> int:
    from viewer.library import query

    if args.check:
        lib.refresh_online()
    studies = query.find_studies(lib.conn, _filter(args, args.text))
    if args.json:
        _print_json({"studies": [s.to_dict() for s in studies]})
    else:
        for s in studies:
            print(_study_line(s))
    return 0


def _priors(args: argparse.Namespace, lib: Any) -> int:
    from viewer.errors import UsageError
    from viewer.library import query

    current = query.study(lib.conn, args.study_uid)
    if current is None:
        raise UsageError(f"no study {args.study_uid} in the library")
    found = query.priors(lib.conn, args.study_uid)
    if args.json:
        _print_json({"study": current.to_dict(), "priors": [s.to_dict() for s in found]})
    else:
        print("Current: " + _study_line(current))
        for s in found:
            print("Prior:   " + _study_line(s))
    return 0


def _remove(args: argparse.Namespace, lib: Any) -> int:
    for uid in args.study_uids:
        count, deleted = lib.remove_study(uid)
        print(f"{uid}: {count} instance(s) removed from the library, {len(deleted)} file(s) deleted from the "
              "local store")
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    from viewer.tasks.library import rebuild

    lib, result = rebuild(args.db, args.store)
    with lib:
        counts = lib.counts()
    print(f"rebuilt from {lib.store_root}: {result.report.added + result.report.updated + result.report.unchanged} "
          f"instance(s) in the store; the library holds {counts['studies']} study(ies), "
          f"{counts['instances']} instance(s)")
    return 0


def _export(args: argparse.Namespace, lib: Any) -> int:
    import sys
    from pathlib import Path

    from viewer.errors import UsageError
    from viewer.tasks.cd_export import CdOptions, export_cd

    if args.key_file and not args.anonymize:
        raise UsageError("--key-file needs --anonymize")
    opts = CdOptions(anonymize=args.anonymize, key_file=Path(args.key_file) if args.key_file else None,
                     with_viewer=args.with_viewer, bundle=Path(args.bundle) if args.bundle else None,
                     label=args.label)
    report = export_cd(lib, args.study_uids, Path(args.out), opts)
    for path, error in report.failed:
        print(f"dicom-viewer: warning: {path}: {error}", file=sys.stderr)
    for note in report.notes:
        print(f"dicom-viewer: note: {note}", file=sys.stderr)
    print(f"{len(report.written)} instance(s) written to {args.out} (DICOMDIR, {len(report.studies)} study(ies))")
    return 1 if report.failed else 0


_ACTIONS = {"import": _import, "list": _list, "search": _search, "priors": _priors, "remove": _remove,
            "export": _export}
