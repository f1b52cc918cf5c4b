"""Options shared by the network subcommands (DCMTK-like: ``--aet``, ``--aec``, ``--timeout``,
``-k KEY=VALUE``), stdlib only at import time."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewer.config import DimseNode
    from viewer.net.progress import RetrieveProgress

DEFAULT_CALLING = "VIEWER"
DEFAULT_CALLED = "ANY-SCP"


def add_peer_arguments(parser: argparse.ArgumentParser, called: str = DEFAULT_CALLED, web: bool = False) -> None:
    """HOST PORT, --aet, --aec, --timeout and TLS options; with ``web`` a DICOMweb URL may
    stand in place of HOST PORT (:mod:`viewer.commands._dicomweb`)."""
    parser.add_argument("host", metavar="HOST", help="hostname or address of the peer" + (
        ", or a DICOMweb base URL (http[s]://...) in place of HOST PORT" if web else ""))
    parser.add_argument("port", metavar="PORT", type=int, nargs="?" if web else None, help="TCP port of the peer")
    if web:
        from viewer.commands._dicomweb import add_web_arguments

        add_web_arguments(parser)
    parser.add_argument("-aet", "--aet", default=DEFAULT_CALLING, metavar="AETITLE",
                        help=f"our (calling) AE title (default {DEFAULT_CALLING})")
    parser.add_argument("-aec", "--aec", default=called, metavar="AETITLE",
                        help=f"the peer's (called) AE title (default {called})")
    parser.add_argument("-to", "--timeout", type=float, default=30.0, metavar="S",
                        help="timeout in seconds for connect, association and each response (default 30)")
    tls = parser.add_argument_group("TLS (PS3.15 B.1)")
    tls.add_argument("--tls", action="store_true", help="use TLS")
    tls.add_argument("--tls-ca", metavar="PEM", default="", help="CA certificates to verify the peer")
    tls.add_argument("--tls-cert", metavar="PEM", default="", help="our certificate (client authentication)")
    tls.add_argument("--tls-key", metavar="PEM", default="", help="private key of --tls-cert")


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE",
                        help="matching or return key: keyword or gggg,eeee, sequence items as "
                             "Seq[0].Key; no =VALUE asks for it as a return key (repeatable)")


def node_from_args(args: argparse.Namespace) -> DimseNode:
    """A :class:`viewer.config.DimseNode` from the common options (raises UsageError)."""
    from viewer.config import DimseNode, Timeouts, TlsOptions, validate_ae_title

    validate_ae_title(args.aet)
    tls = None
    if args.tls or args.tls_ca or args.tls_cert:
        tls = TlsOptions(ca_file=args.tls_ca, cert_file=args.tls_cert, key_file=args.tls_key)
    from viewer.errors import UsageError

    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.port is None:
        raise UsageError("PORT is missing (or give a DICOMweb URL in place of HOST PORT)")
    return DimseNode(name=f"{args.aec}@{args.host}", ae_title=args.aec, host=args.host, port=args.port,
                     timeouts=Timeouts.uniform(args.timeout), tls=tls).validate()


def print_progress(p: RetrieveProgress, quiet: bool = False) -> None:
    """One line per retrieve step on stderr, movescu-style."""
    import sys

    if quiet:
        return
    total = p.total
    head = f"{p.completed + p.failed + p.warning}/{total}" if total is not None else f"{p.completed}"
    print(f"{'final' if p.final else 'pending'}: {head} ({p.summary()})", file=sys.stderr)
