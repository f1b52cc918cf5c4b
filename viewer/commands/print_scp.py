"""``print-scp``: run the virtual film printer (a DICOM print server) until interrupted."""

from __future__ import annotations

import argparse

HELP = "run a DICOM print server that renders received films to PNG and PDF"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=11110, help="TCP port to listen on (default 11110)")
    parser.add_argument("--aet", default="VIEWERPRINT", help="our AE title (default VIEWERPRINT)")
    parser.add_argument("--bind", default="0.0.0.0", metavar="ADDR", help="address to listen on (default all)")
    parser.add_argument("--out", default="prints", metavar="DIR",
                        help="output folder: DIR/<session>/film-<n>.png, session.pdf, DICOM hardcopies "
                             "(default ./prints)")
    parser.add_argument("--profile", default="default",
                        help="printer profile: a bundled name (default, gray8) or a JSON file")
    parser.add_argument("--dpi", type=int, default=150, help="resolution of the rendered films (default 150)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="network timeouts (default 30 s)")
    parser.add_argument("--max-associations", type=int, default=20, metavar="N",
                        help="associations served at once (default 20)")
    parser.add_argument("--allow-calling", action="append", default=None, metavar="AET",
                        help="accept only this calling AE title (repeat for several; default: any)")
    tls = parser.add_argument_group("DICOM over TLS (PS3.15 B.9, BCP 195)")
    tls.add_argument("--tls-cert", metavar="PEM", help="our certificate: listen for TLS only")
    tls.add_argument("--tls-key", metavar="PEM", help="its private key (if not in --tls-cert)")
    tls.add_argument("--tls-ca", metavar="PEM", help="CA certificates that sign acceptable client certificates")
    tls.add_argument("--tls-any-client", action="store_true",
                     help="do not require a client certificate (encryption without peer authentication)")


def run(args: argparse.Namespace) -> int:
    import logging
    import signal
    from pathlib import Path

    from viewer.cancel import CancelToken
    from viewer.errors import UsageError
    from viewer.tasks.print_server import start_virtual_printer

    log = logging.getLogger(__name__)
    if logging.getLogger().level > logging.INFO:
        # A server's log is its user interface: associations and messages at INFO, as dcmprscp -v.
        logging.getLogger("viewer").setLevel(logging.INFO)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: 0..65535 expected")
    if not 36 <= args.dpi <= 1200:
        raise UsageError(f"--dpi {args.dpi}: 36..1200 expected")
    if not 1 <= len(args.aet) <= 16:
        raise UsageError("--aet: 1 to 16 characters expected")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None
    ssl_context = None
    if args.tls_cert:
        from viewer.net.tls import ServerTls, server_context

        ssl_context = server_context(ServerTls(args.tls_cert, args.tls_key or "", args.tls_ca or "",
                                               require_client_cert=not args.tls_any_client))
    elif args.tls_key or args.tls_ca or args.tls_any_client:
        raise UsageError("--tls-key/--tls-ca/--tls-any-client need --tls-cert")
    stop = CancelToken()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.cancel()

    printer = start_virtual_printer(args.profile, out, aet=args.aet, host=args.bind, port=args.port, dpi=args.dpi,
                                    timeout=args.timeout, max_associations=args.max_associations,
                                    ssl_context=ssl_context, allowed_calling=args.allow_calling)
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        log.info("writing films to %s", out.resolve())
        while not stop.wait(0.5):
            pass
    finally:
        printer.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
