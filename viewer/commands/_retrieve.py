"""The body shared by the ``move`` and ``get`` subcommands."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from viewer.config import DimseNode
    from viewer.net.find import Root
    from viewer.net.progress import RetrieveProgress

log = logging.getLogger(__name__)


def _uids(args: argparse.Namespace) -> dict[str, str]:
    from viewer.net.find import parse_keys, set_key
    from pydicom.dataset import Dataset

    ds = Dataset()
    for key, value in parse_keys(args.key):
        set_key(ds, key, value)
    return {kw: str(ds[kw].value) for kw in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
            if kw in ds and ds[kw].value not in (None, "")}


def _study_sop_classes(node: DimseNode, aet: str, uids: dict[str, str], root: Root) -> list[str]:
    """SOP Classes in Study (0008,0062) by a STUDY-level C-FIND; empty if the peer does not say."""
    from viewer.errors import NetError
    from viewer.net.find import FIND_MODEL, build_query, find
    from viewer.net.get import get_sop_classes

    if "StudyInstanceUID" not in uids:
        return []
    keys = {"StudyInstanceUID": uids["StudyInstanceUID"], "SOPClassesInStudy": ""}
    if "PatientID" in uids:
        keys["PatientID"] = uids["PatientID"]
    try:
        return get_sop_classes(find(node, aet, build_query("STUDY", keys, root, defaults=False), FIND_MODEL[root]))
    except NetError as exc:
        log.info("could not ask for SOP Classes in Study: %s", exc)
        return []


def _indexed(args: argparse.Namespace, steps: Iterator[RetrieveProgress], node: str) -> Iterator[RetrieveProgress]:
    """The retrieve's steps, each step's files indexed into the study library as they arrive."""
    from viewer.library import Library, Provenance, SourceKind
    from viewer.tasks.library import index_retrieve

    with Library(args.library or None) as library:
        yield from index_retrieve(library, steps, Provenance(SourceKind.PACS, node=node))


def run_retrieve(args: argparse.Namespace, node: DimseNode, method: str) -> int:
    from viewer.commands._netargs import print_progress
    from viewer.config import LocalAE
    from viewer.errors import NetError, UsageError
    from viewer.net.find import Root, parse_level, parse_root
    from viewer.dicom.local_store import LocalStore
    from viewer.tasks.retrieve import RetrieveRequest, ScpHolder, retrieve

    level = parse_level(args.level)
    root = parse_root(args.root)
    uids = _uids(args)
    if root is Root.STUDY and level.value == "PATIENT":
        raise UsageError("PATIENT level is only in the Patient Root model; use --root patient")
    store = LocalStore(args.out)
    request = RetrieveRequest(node=node, level=level.value, uids=uids, root=root, method=method)
    holder = None
    if method == "get":
        request.sop_classes = list(args.sop_class) or _study_sop_classes(node, args.aet, uids, root)
    else:
        request.dest_aet = args.dest or args.aet
        if args.store_port is not None:
            local = LocalAE(ae_title=request.dest_aet, store_port=args.store_port,
                            accept_any_calling=args.accept_any).validate()
            holder = ScpHolder(local, store, allowed={node.ae_title})
        elif request.dest_aet == args.aet:
            raise UsageError("--store-port is needed to receive the move ourselves (or give --dest of another AE)")
    last = None
    try:
        steps = retrieve(request, args.aet, store, scp=holder)
        if getattr(args, "library", None) is not None:
            steps = _indexed(args, steps, f"{node.ae_title}@{node.host}:{node.port}")
        for step in steps:
            last = step
            print_progress(step, args.quiet)
            for path in step.files:
                log.info("stored %s", path)
    except NetError as exc:
        received = len(store.instances())
        raise type(exc)(f"{exc} ({received} file(s) in {store.root})", status=exc.status,
                        category=exc.category) from exc
    finally:
        if holder is not None:
            holder.stop()
    assert last is not None
    print(f"{method.upper()}: {last.summary()}; {last.received} file(s) written to {store.root}")
    if last.failed:
        print(f"{'dicom-viewer'}: warning: {last.failed} sub-operation(s) failed"
              + (f": {', '.join(last.failed_uids)}" if last.failed_uids else ""), file=sys.stderr)
        return 1
    return 0
