"""Child process of the reader fuzz run: feed inputs through scan, dump and render.

Run as ``python fuzz_worker.py JOBS.json``. Address space is capped (``RLIMIT_AS``) so a
reader that believes a declared 4 GB length gets a MemoryError instead of the machine's
memory, and every input has a time bound (``SIGALRM``). For each input the worker prints
``{"start": i}`` and then one result line; the parent (``fuzz_runner``) notices a child
that died or hung on an input from the last ``start`` without result.

Outcomes: ``ok`` (a result, or one of our own ``ViewerError`` s) or a failure:
``crash`` (any other exception), ``memory`` (MemoryError), ``timeout``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import resource
import signal
import sys
import tempfile
import traceback
import warnings

#: Address-space cap: the interpreter, numpy, pydicom and the codecs need ~200 MB; the
#: largest legitimate image in the fuzz corpus decodes in well under 100 MB.
MEMORY_LIMIT = 1024 * 1024 * 1024


class Escape(Exception):
    """A DICOMDIR reader listed a file outside its medium."""


class InputTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so a reader's ``except Exception`` cannot eat it."""


def _alarm(signum: int, frame: object) -> None:
    raise InputTimeout()


def _targets(path: str, tmp: str, parser: argparse.ArgumentParser) -> list[tuple[str, object]]:
    from viewer.dicom.headers import read_instance
    from viewer.dicom.scan import load_tree, scan

    def run_cli(*argv: str) -> object:
        args = parser.parse_args(list(argv))
        with contextlib.redirect_stdout(io.StringIO()):
            return args._run(args)

    png = os.path.join(tmp, "out.png")
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "DICOMDIR")):
        # a folder without DICOMDIR (FIFOs, links leading out): scan must end and list
        # nothing outside the folder, export and send's collection too
        def scan_folder() -> None:
            root = os.path.realpath(path)
            paths = [str(e.instance.path) for e in scan([path]) if e.instance is not None]
            outside = [p for p in paths if os.path.commonpath([root, os.path.realpath(p)]) != root]
            if outside:
                raise Escape(f"listed outside the folder: {outside[:3]}")

        def collect_folder() -> None:
            from pathlib import Path

            from viewer.tasks.send import collect

            items, _ = collect([Path(path)])
            root = os.path.realpath(path)
            outside = [str(i.path) for i in items if os.path.commonpath([root, os.path.realpath(i.path)]) != root]
            if outside:
                raise Escape(f"send would send files outside the folder: {outside[:3]}")

        return [("scan", scan_folder), ("send_collect", collect_folder),
                ("export", lambda: run_cli("export", path, "-o", os.path.join(tmp, "export")))]
    if os.path.isdir(path):  # a medium: the DICOMDIR path and the folder path
        dicomdir = os.path.join(path, "DICOMDIR")

        def scan_inside() -> None:
            paths = [str(e.instance.path) for e in scan([path]) if e.instance is not None]
            tree = load_tree(path)
            paths += [str(i.path) for s in tree.iter_series() for i in s.instances]
            root = os.path.realpath(path)
            outside = [p for p in paths if os.path.commonpath([root, os.path.realpath(p)]) != root]
            if outside:  # PS3.10 8.5: a Referenced File ID names a file on this medium
                raise Escape(f"listed outside the medium: {outside[:3]}")

        return [("scan", scan_inside),
                ("dump", lambda: run_cli("dump", dicomdir)),
                ("dump_json", lambda: run_cli("dump", "--json", dicomdir))]
    return [("header_fast", lambda: read_instance(path, fast=True)),
            ("header_pydicom", lambda: read_instance(path, fast=False)),
            ("scan", lambda: list(scan([path]))),
            ("dump", lambda: run_cli("dump", path)),
            ("dump_json", lambda: run_cli("dump", "--json", path)),
            ("render", lambda: run_cli("render", path, "-o", png))]


def _peak_kib() -> int:
    """This process's peak resident set (VmHWM of /proc/self/status), KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("jobs")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--memory", type=int, default=MEMORY_LIMIT)
    opts = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (opts.memory, opts.memory))
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    signal.signal(signal.SIGALRM, _alarm)

    from viewer.cli import build_parser
    from viewer.errors import ViewerError

    parser, _ = build_parser()
    with open(opts.jobs) as fh:
        jobs = json.load(fh)
    tmp = tempfile.mkdtemp(prefix="fuzz-out-")
    out = sys.stdout
    for i, path in enumerate(jobs):
        out.write(json.dumps({"start": i}) + "\n")
        out.flush()
        result = {"i": i, "outcome": "ok", "errors": 0}
        for name, fn in _targets(path, tmp, parser):
            signal.setitimer(signal.ITIMER_REAL, opts.timeout)
            try:
                fn()  # type: ignore[operator]
            except ViewerError:
                result["errors"] += 1
            except InputTimeout:
                result.update(outcome="timeout", target=name)
            except MemoryError:
                result.update(outcome="memory", target=name)
            except Escape as exc:
                result.update(outcome="escape", target=name, detail=str(exc))
            except RecursionError:
                result.update(outcome="crash", target=name, detail="RecursionError")
            except Exception as exc:  # noqa: BLE001 - exactly what the fuzz run looks for
                tb = traceback.extract_tb(exc.__traceback__)
                ours = [f for f in tb if "/viewer/" in f.filename][-3:]  # where our code let it through
                where = [f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in ours + tb[-2:]]
                result.update(outcome="crash", target=name, detail=f"{type(exc).__name__}: {exc}"[:300],
                              where=where)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if result["outcome"] != "ok":
                break
        # Peak resident memory of this worker so far; a hostile input runs alone in a fresh
        # worker, so there it is that input's peak. VmHWM, not ru_maxrss: Linux carries the
        # forking parent's high-water mark across exec into ru_maxrss.
        result["peak_mib"] = round(_peak_kib() / 1024, 1)
        out.write(json.dumps(result) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
