"""``move HOST PORT --dest AET --store-port N --level LEVEL -k KEY=VALUE... --out DIR`` (C-MOVE)."""

from __future__ import annotations

import argparse

from viewer.commands._netargs import add_key_arguments, add_peer_arguments, node_from_args

HELP = "retrieve with C-MOVE; with --store-port, to our own storage SCP writing into --out"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_peer_arguments(parser)
    parser.add_argument("--dest", "-aem", dest="dest", default=None, metavar="AET",
                        help="move destination AE title (default: --aet, i.e. ourselves)")
    parser.add_argument("--store-port", type=int, default=None, metavar="N",
                        help="run our storage SCP (AE --dest) on port N for the move")
    parser.add_argument("--accept-any", action="store_true",
                        help="our storage SCP accepts any calling AE (default: only --aec)")
    parser.add_argument("--root", default="study", choices=["study", "patient"], help="information model")
    parser.add_argument("-L", "--level", default="STUDY", metavar="LEVEL", help="PATIENT, STUDY, SERIES or IMAGE")
    add_key_arguments(parser)
    parser.add_argument("--out", "-od", default=".", metavar="DIR", help="local store folder (default .)")
    parser.add_argument("--library", nargs="?", const="", default=None, metavar="DB",
                        help="also index the retrieved instances into the study library "
                             "(the default database, or DB)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    from viewer.commands._retrieve import run_retrieve

    return run_retrieve(args, node_from_args(args), "move")
