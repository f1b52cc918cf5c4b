"""Export DICOM instances to a folder, optionally de-identified (PS3.15 E.1).

Blocking and cancellable (docs/architecture.md, Threads): the ``export`` command runs it directly,
the GUI in a worker. Files are written atomically (temporary name, then rename) as
``<study>/<series>/<instance>.dcm`` named by UIDs only, never by patient attributes.
No Qt here.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from viewer.cancel import CancelToken
from viewer.dicom.anonymize import Options, anonymize_file, output_name
from viewer.errors import Cancelled, ViewerError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset
from viewer.dicom.local_store import LocalStore

log = logging.getLogger(__name__)


@dataclass
class ExportReport:
    """What an export did: files written, and (source, reason) for those that failed."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def export_instances(sources: Iterable[tuple[str, str, str, str]], out: str | os.PathLike[str],
                     opts: Options | None = None, cancel: CancelToken | None = None,
                     progress: Callable[[int], None] | None = None) -> ExportReport:
    """Copy (or de-identify with ``opts``) each source into ``out``.

    Parameters
    ----------
    sources
        ``(path, study_uid, series_uid, sop_uid)`` of each instance (UIDs name the copy).
    out
        Target folder.
    opts
        De-identification options; None copies the files byte for byte.
    cancel
        Set to stop between files (what was written stays).

    Raises
    ------
    Cancelled
        ``cancel`` was set.
    """
    store = LocalStore(out)
    report = ExportReport()
    for n, (src, study, series, sop) in enumerate(sources):
        if cancel is not None and cancel.cancelled:
            raise Cancelled("export cancelled")
        try:
            if opts is None:
                report.written.append(store.write(Path(src).read_bytes(), study, series, sop))
            else:
                ds = anonymize_file(src, opts)
                # Through the store, as a plain export: two inputs with one SOP Instance UID
                # are both kept (the second beside the first), never one over the other.
                name = output_name(ds)
                report.written.append(store.write(_encode(ds), name.parts[0], name.parts[1], name.stem))
        except (ViewerError, OSError, ValueError) as exc:
            report.failed.append((src, str(exc)))
            log.error("cannot export %s: %s", src, exc)
        if progress is not None:
            progress(n + 1)
    log.info("exported %d instance(s) to %s%s", len(report.written), store.root, " (de-identified)" if opts else "")
    return report


def _encode(ds: Dataset) -> bytes:
    import io

    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()
