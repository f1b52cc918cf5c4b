"""``find HOST PORT --root study|patient --level LEVEL -k KEY=VALUE... [--json]`` (C-FIND)."""

from __future__ import annotations

import argparse

from viewer.commands._netargs import add_key_arguments, add_peer_arguments, node_from_args

HELP = "query a PACS (C-FIND, patient or study root), print matches as text or DICOM JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_peer_arguments(parser, web=True)
    parser.add_argument("--root", default="study", choices=["study", "patient"], help="information model")
    parser.add_argument("-L", "--level", default="STUDY", metavar="LEVEL",
                        help="PATIENT, STUDY, SERIES or IMAGE (default STUDY)")
    add_key_arguments(parser)
    parser.add_argument("--no-defaults", action="store_true",
                        help="send only the -k keys (and the level), not the default return keys")
    parser.add_argument("--json", action="store_true", help="DICOM JSON model: an array, one object per match")


def run(args: argparse.Namespace) -> int:
    import sys

    from viewer.net.dicomjson import JsonArrayWriter
    from viewer.net.find import FIND_MODEL, build_query, find, parse_root

    if args.host.startswith(("http://", "https://")):  # a DICOMweb base URL: QIDO-RS
        from viewer.commands._dicomweb import run_find

        return run_find(args)
    node = node_from_args(args)
    root = parse_root(args.root)
    query = build_query(args.level, args.key, root, defaults=not args.no_defaults)
    results = find(node, args.aet, query, FIND_MODEL[root])
    if args.json:
        with JsonArrayWriter(sys.stdout) as out:
            for ds in results:
                out.write(ds)
        return 0
    n = 0
    for ds in results:
        n += 1
        print(f"--- match {n}")
        for elem in ds:
            if elem.keyword != "QueryRetrieveLevel" and elem.value not in (None, ""):
                print(f"  {elem.keyword or elem.tag}: {elem.value}")
    print(f"{n} match(es)", file=sys.stderr)
    return 0
