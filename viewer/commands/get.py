"""``get HOST PORT --level LEVEL -k KEY=VALUE... --out DIR`` (C-GET with role selection)."""

from __future__ import annotations

import argparse

from viewer.commands._netargs import add_key_arguments, add_peer_arguments, node_from_args

HELP = "retrieve with C-GET (instances come back on the same association) into --out"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_peer_arguments(parser, web=True)
    parser.add_argument("--root", default="study", choices=["study", "patient"], help="information model")
    parser.add_argument("-L", "--level", default="STUDY", metavar="LEVEL", help="PATIENT, STUDY, SERIES or IMAGE")
    add_key_arguments(parser)
    parser.add_argument("--sop-class", action="append", default=[], metavar="UID",
                        help="storage SOP class to propose (repeatable; default: ask the peer with "
                             "C-FIND for SOP Classes in Study, else a list of common classes)")
    parser.add_argument("--out", "-od", default=".", metavar="DIR", help="local store folder (default .)")
    parser.add_argument("--library", nargs="?", const="", default=None, metavar="DB",
                        help="also index the retrieved instances into the study library "
                             "(the default database, or DB)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    from viewer.commands._retrieve import run_retrieve

    if args.host.startswith(("http://", "https://")):  # a DICOMweb base URL: QIDO-RS + WADO-RS
        from viewer.commands._dicomweb import run_get

        return run_get(args)
    return run_retrieve(args, node_from_args(args), "get")
