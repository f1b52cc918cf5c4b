"""Command line: ``dicom-viewer [PATH...]`` opens the GUI; ``dicom-viewer COMMAND ...`` runs headless.

Subcommands live in :mod:`viewer.commands` and never import Qt. The GUI (:mod:`viewer.app`)
is imported only when no subcommand is given, so ``dump``/``scan``/``echo``... work on a
machine without a display or even without PySide6.

Errors a user can cause end in one line on stderr and a non-zero exit; a traceback is
printed only with ``--debug`` (as DCMTK tools do with ``-d``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import NoReturn, Sequence

from viewer import __version__
from viewer.errors import UsageError, ViewerError

PROG = "dicom-viewer"

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


class _DcmtkFormatter(logging.Formatter):
    """DCMTK-style level prefixes: ``E: ...``, ``W: ...``, ``I: ...``, ``D: ...``."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = {"CRITICAL": "F", "ERROR": "E", "WARNING": "W", "INFO": "I", "DEBUG": "D"}
        return f"{prefix.get(record.levelname, '?')}: {record.getMessage()}" + (
            "\n" + self.formatException(record.exc_info) if record.exc_info else "")


def setup_logging(verbose: bool, debug: bool) -> None:
    """Configure the root logger once, for the CLI and the GUI alike."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_DcmtkFormatter())
    if not debug:
        # pydicom logs each failing decoder plugin with a traceback (ERROR) and resets its
        # logger's level when imported; our DecodeError already says why in one line.
        handler.addFilter(lambda r: not r.name.startswith("pydicom") or (verbose and r.exc_info is None))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pynetdicom logs its own ERROR lines for what our code already reports in one line
    # (a rejected association, an abort); show them with -v, its PDU dumps with --debug.
    logging.getLogger("pynetdicom").setLevel(
        logging.DEBUG if debug else logging.WARNING if verbose else logging.CRITICAL)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="verbose mode, print processing details")
    parser.add_argument("-d", "--debug", action="store_true", help="debug mode, print debug information and tracebacks")


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """Return (command parser, GUI parser)."""
    from viewer.commands import discover

    top = _Parser(prog=PROG, description="DICOM viewer and print client. Without COMMAND, opens the GUI.")
    top.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_common(top)
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in discover().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        _add_common(p)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)

    gui = _Parser(prog=PROG, description="Open the GUI, optionally on files, folders or a DICOMDIR.",
                  epilog="Commands (run headless): " + ", ".join(discover()) + f". See '{PROG} COMMAND --help'.")
    gui.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_common(gui)
    gui.add_argument("paths", nargs="*", metavar="PATH", help="file, folder or DICOMDIR to open")
    gui.add_argument("--screenshot", metavar="OUT.png",
                     help="open PATH, wait for the first image (or a failure), save a grab of the window, exit")
    gui.add_argument("--size", default="1280x800", metavar="WxH", help="window size (default 1280x800)")
    gui.add_argument("--layout", metavar="RxC",
                     help="viewport layout, e.g. 1x2, 2x2 (rows x columns, up to 4x4); overrides the protocol's")
    gui.add_argument("--protocol", metavar="NAME",
                     help="hanging protocol by name or file name (default: the best match for the study)")
    gui.add_argument("--timeout", type=float, default=60.0, metavar="S",
                     help="with --screenshot: give up after S seconds (default 60)")
    return top, gui


def _first_positional(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dicom-viewer`` and ``python -m viewer``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    top, gui = build_parser()
    from viewer.commands import discover

    is_command = _first_positional(argv) in discover() or any(a in ("-h", "--help") for a in argv[:1])
    args = (top if is_command else gui).parse_args(argv)
    setup_logging(args.verbose, args.debug)
    from viewer.dicom._media_zip import remove_on_sigterm

    remove_on_sigterm()  # unpacked ZIPs are removed when the process is terminated, too
    try:
        if is_command:
            if getattr(args, "_run", None) is None:
                top.print_help()
                return 0
            return int(args._run(args) or 0)
        from viewer.app import run_gui  # Qt is imported here and only here

        return run_gui(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except ViewerError as exc:
        if args.debug:
            log.exception("failed")
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except Exception as exc:  # the last line of defence: one line, no traceback
        if args.debug:
            log.exception("internal error")
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)",
              file=sys.stderr)
        return 3
