"""``echo HOST PORT [--probe]``: C-ECHO with round-trip time; --probe lists accepted SOP classes."""

from __future__ import annotations

import argparse

from viewer.commands._netargs import add_peer_arguments, node_from_args

HELP = "verify a DICOM peer (C-ECHO) and optionally probe which services it accepts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_peer_arguments(parser)
    parser.add_argument("-r", "--repeat", type=int, default=1, metavar="N", help="send N echoes (default 1)")
    parser.add_argument("--probe", action="store_true",
                        help="propose Q/R, worklist and print SOP classes and report what the peer accepts")


def run(args: argparse.Namespace) -> int:
    from viewer.net.echo import echo

    node = node_from_args(args)
    for _ in range(max(1, args.repeat)):
        r = echo(node, args.aet)
        print(f"C-ECHO {node.ae_title}@{node.host}:{node.port}: status 0x{r.status:04X} ({r.category}), "
              f"round trip {r.rtt * 1000:.1f} ms, association {r.associate_time * 1000:.1f} ms")
    if args.probe:
        from viewer.net.probe import probe

        results = probe(node, args.aet)
        for item in results:
            print(item.line())
        print(f"{sum(r.accepted for r in results)} of {len(results)} presentation contexts accepted")
    return 0
