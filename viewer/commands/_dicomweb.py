"""DICOMweb variants of ``find`` and ``get``: a base URL in place of HOST PORT.

The ``find``/``get`` modules dispatch here when their first positional starts with
``http://`` or ``https://``; the query is built with the same C-FIND query builder and
sent as QIDO-RS, the retrieve is WADO-RS into the same local store. Stdlib only at import.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from viewer.net.dicomweb import DicomWebClient

log = logging.getLogger(__name__)


def add_web_arguments(parser: argparse.ArgumentParser) -> None:
    """``--user/--password/--token/--insecure/--ca-bundle`` for a DICOMweb URL."""
    web = parser.add_argument_group("DICOMweb (when a URL is given in place of HOST PORT)")
    web.add_argument("--user", metavar="NAME", help="HTTP basic authentication user")
    web.add_argument("--password", metavar="PW", help="HTTP basic authentication password")
    web.add_argument("--token", metavar="TOKEN", help="bearer token (instead of --user/--password)")
    web.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    web.add_argument("--ca-bundle", metavar="PEM", help="verify TLS against this CA bundle")


def client_from_args(url: str, args: argparse.Namespace) -> DicomWebClient:
    """A :class:`viewer.net.dicomweb.DicomWebClient` from the options above."""
    from viewer.errors import UsageError
    from viewer.net.dicomweb import DicomWebClient, WebTarget

    if getattr(args, "port", None) is not None:
        raise UsageError(f"give either a URL or HOST PORT, not both ({url} {args.port})")
    verify: bool | str = getattr(args, "ca_bundle", None) or not getattr(args, "insecure", False)
    return DicomWebClient(WebTarget(url, getattr(args, "user", None), getattr(args, "password", None),
                                    getattr(args, "token", None), verify, float(getattr(args, "timeout", 30.0))))


def _identifier(args: argparse.Namespace, defaults: bool) -> Dataset:
    from viewer.net.find import Root, build_query

    # QIDO-RS is study-rooted (PS3.18 10.6): the patient root's PATIENT level has no resource.
    return build_query(args.level, args.key, Root.STUDY, defaults=defaults)


def run_find(args: argparse.Namespace) -> int:
    """``find URL --level L -k K=V ... [--json]`` by QIDO-RS; prints as the DIMSE find does."""
    from viewer.net.dicomjson import JsonArrayWriter
    from viewer.net.dicomweb import keys_from_identifier

    level, keys = keys_from_identifier(_identifier(args, not getattr(args, "no_defaults", False)))
    with client_from_args(args.host, args) as client:
        results = client.search(level, keys)
    if getattr(args, "json", False):
        with JsonArrayWriter(sys.stdout) as out:
            for ds in results:
                out.write(ds)
        return 0
    for n, ds in enumerate(results, 1):
        print(f"--- match {n}")
        for elem in ds:
            if elem.value not in (None, ""):
                print(f"  {elem.keyword or elem.tag}: {elem.value}")
    print(f"{len(results)} match(es)", file=sys.stderr)
    return 0


def _index_web(db: str, files: "list[Path]", url: str) -> None:
    """Index WADO-RS results into the study library (``get --library``)."""
    from viewer.library import Library, Provenance, SourceKind
    from viewer.tasks.library import index_files

    with Library(db or None) as library:
        _, errors = index_files(library, files, Provenance(SourceKind.DICOMWEB, node=url))
    for path, reason in errors:
        log.warning("retrieved file not indexed: %s: %s", path, reason)


def run_get(args: argparse.Namespace) -> int:
    """``get URL --level L -k K=V ... --out DIR`` by QIDO-RS (what matches) + WADO-RS."""
    from viewer.errors import UsageError
    from viewer.net.dicomweb import keys_from_identifier
    from viewer.dicom.local_store import LocalStore

    ident = _identifier(args, defaults=False)
    level, keys = keys_from_identifier(ident)
    if level == "PATIENT":
        raise UsageError("DICOMweb has no PATIENT level: use --level STUDY -k PatientID=...")
    for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")[: {"STUDY": 1, "SERIES": 2}.get(level, 3)]:
        keys.setdefault(kw, "")
    store = LocalStore(args.out)
    quiet = getattr(args, "quiet", False)
    total = 0
    with client_from_args(args.host, args) as client:
        matches = client.search(level, keys)
        if not matches:
            print(f"GET: nothing matches at {level} level", file=sys.stderr)
            return 1
        for m in matches:
            study = str(m.get("StudyInstanceUID", "") or keys.get("StudyInstanceUID", ""))
            series = str(m.get("SeriesInstanceUID", "")) if level in ("SERIES", "IMAGE") else None
            sop = str(m.get("SOPInstanceUID", "")) if level == "IMAGE" else None
            if not study or (level in ("SERIES", "IMAGE") and not series) or (level == "IMAGE" and not sop):
                log.warning("skipping a match without its UIDs: %s", m)
                continue

            def progress(path: Path, n: int, before: int = total) -> None:
                if not quiet:
                    print(f"pending: {before + n} ({path.name})", file=sys.stderr)

            files = client.retrieve(store, study, series, sop, progress=progress)
            total += len(files)
            if getattr(args, "library", None) is not None:
                _index_web(args.library, files, args.host)
    print(f"GET (WADO-RS): {total} file(s) written to {store.root}")
    return 0
