"""WADO-RS (PS3.18 10.4): retrieve instances into the local store, metadata, thumbnails.

Retrieved instances are streamed part by part (the multipart reader of
:mod:`viewer.net._multipart`) to a hidden temporary file in the store and renamed to their
place only once complete, so an interrupted retrieval leaves no partial file.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Protocol
from urllib.parse import quote

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import Cancelled, NetError, ReadError
from viewer.net import _multipart
from viewer.net.dicomweb._body import chunks
from viewer.net.dicomweb._http import DICOM_JSON, reason
from viewer.net.dicomweb.qido import QidoClient

if TYPE_CHECKING:
    import requests
    from pydicom.dataset import Dataset

    from viewer.dicom.local_store import PendingFile

log = logging.getLogger(__name__)

#: PS3.18 8.7.3.5.1 / Table 8.7.3-2: ask for every syntax the server has ("*").
ACCEPT_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'
ACCEPT_DICOM_PLAIN = 'multipart/related; type="application/dicom"'
#: Largest instance a WADO-RS retrieve writes when the destination sets no limit of its own.
MAX_OBJECT_BYTES = 2 * 1024 ** 3


class Store(Protocol):
    """Where retrieved instances go (:class:`viewer.dicom.local_store.LocalStore` is one)."""

    root: Path

    def path_for(self, study: str, series: str, sop: str) -> Path: ...


class WadoClient(QidoClient):
    """WADO-RS on one DICOMweb service; QIDO-RS finds the instance a thumbnail is made of."""

    def _resource(self, study_uid: str, series_uid: str | None = None, instance_uid: str | None = None) -> str:
        url = f"{self.base}/studies/{quote(study_uid)}"
        if series_uid:
            url += f"/series/{quote(series_uid)}"
            if instance_uid:
                url += f"/instances/{quote(instance_uid)}"
        return url

    def metadata(self, study_uid: str, series_uid: str | None = None,
                 instance_uid: str | None = None) -> list["Dataset"]:
        """WADO-RS metadata (PS3.18 10.4.1.1.2): headers of every instance, no bulk data."""
        rsp = self._request("GET", self._resource(study_uid, series_uid, instance_uid) + "/metadata",
                            headers={"Accept": DICOM_JSON}, stream=True)
        return self._datasets(rsp)

    def thumbnail(self, study_uid: str, series_uid: str | None = None, instance_uid: str | None = None,
                  size: int = 128) -> bytes | None:
        """A rendered JPEG (PS3.18 10.4.1.1.4 ``/thumbnail`` or 10.4.1.1.3 ``/rendered``).

        Tried at the level asked; for a study or series the server cannot render, the first
        instance found by QIDO-RS is rendered instead. Returns None when the server offers
        neither (404/406/501...).
        """
        base = self._resource(study_uid, series_uid, instance_uid)
        for suffix in ("/thumbnail", "/rendered"):
            try:
                # image/jpeg alone: Orthanc 1.10 answers 400 to a list of media types.
                rsp = self._request("GET", base + suffix, params=[("viewport", f"{size},{size}")],
                                    headers={"Accept": "image/jpeg"})
            except NetError as exc:
                if exc.category == "http" and exc.status not in (401, 403):
                    continue
                raise
            ctype = rsp.headers.get("Content-Type", "")
            if ctype.startswith("image/"):
                return rsp.content
            if ctype.startswith("multipart/"):  # some servers wrap the image
                for body in _collect_parts(rsp):
                    return body
        if instance_uid is None:
            keys = {"SeriesInstanceUID": "", "SOPInstanceUID": ""}
            found = self.search("IMAGE", keys, study_uid=study_uid, series_uid=series_uid, limit=1)
            if found and "SeriesInstanceUID" in found[0] and "SOPInstanceUID" in found[0]:
                return self.thumbnail(study_uid, str(found[0].SeriesInstanceUID), str(found[0].SOPInstanceUID),
                                      size)
        return None

    def retrieve(self, dest: Path | Store, study_uid: str, series_uid: str | None = None,
                 instance_uid: str | None = None, *,
                 progress: Callable[[Path, int], None] | None = None,
                 cancel: CancelToken | None = None) -> list[Path]:
        """WADO-RS retrieve (PS3.18 10.4) of a study, series or instance into ``dest``.

        Parameters
        ----------
        dest : Path or LocalStore
            A folder (files go to ``dest/<study>/<series>/<sop>.dcm``) or an object with
            ``root`` and a ``path_for(study, series, sop)`` method.
        study_uid, series_uid, instance_uid : str
        progress : callable, optional
            ``progress(path, count)`` after each instance is complete on disk.
        cancel : viewer.cancel.CancelToken, optional
            Checked between chunks; the response is closed and :class:`Cancelled` raised.

        Returns
        -------
        list of Path
            The files written, in the order received.

        Raises
        ------
        NetError
            HTTP error, connection cut or malformed response; files completed before the
            failure stay, the one in flight is removed.
        """
        written: list[Path] = []
        for path in self.iter_retrieve(dest, study_uid, series_uid, instance_uid, cancel=cancel):
            written.append(path)
            if progress is not None:
                progress(path, len(written))
        return written

    def iter_retrieve(self, dest: Path | Store, study_uid: str, series_uid: str | None = None,
                      instance_uid: str | None = None, *, cancel: CancelToken | None = None) -> Iterator[Path]:
        """As :meth:`retrieve`, yielding each file as soon as it is complete on disk."""
        import requests
        import urllib3

        url = self._resource(study_uid, series_uid, instance_uid)
        try:
            rsp = self._request("GET", url, headers={"Accept": ACCEPT_DICOM}, stream=True)
        except NetError as exc:
            # A server that does not know "transfer-syntax=*" (PS3.18 8.7.3.5.2) may answer
            # 406 or 400: ask again for its default syntax (Explicit VR Little Endian).
            if exc.status not in (400, 406):
                raise
            log.info("WADO-RS %s: %s; asking without transfer-syntax=*", url, exc)
            rsp = self._request("GET", url, headers={"Accept": ACCEPT_DICOM_PLAIN}, stream=True)
        from viewer.dicom.local_store import LocalStore, StoreLimitError

        count = 0
        # Every instance goes through the local store, as a C-STORE does: its free-space
        # floor and object limit hold, and a different object with the same UIDs is kept
        # beside the existing one, never over it.
        store = dest if hasattr(dest, "open_pending") else LocalStore(Path(dest) if isinstance(
            dest, (str, os.PathLike)) else Path(dest.root))
        pending = None
        # The store's limit for one object, else 2 GiB.
        max_part = int(getattr(store, "max_object_bytes", None) or MAX_OBJECT_BYTES)
        size = 0
        part_deadline = time.monotonic() + self.target.deadline
        total_end = time.monotonic() + self.target.retrieve_deadline
        try:
            boundary = _multipart.boundary_of(rsp.headers.get("Content-Type", ""))
            limit = f"{self.target.deadline:g} s per instance, {self.target.retrieve_deadline:g} s in all"
            events = _multipart.iter_events(chunks(rsp, cancel, lambda: min(part_deadline, total_end), limit),
                                            boundary)
            for kind, value in events:
                if kind == "headers":
                    if is_cancelled(cancel):  # do not start a file we would not finish
                        raise Cancelled("retrieve cancelled")
                    headers = value if isinstance(value, dict) else {}
                    ctype, _ = _multipart.parse_params(headers.get("content-type", "application/dicom"))
                    if ctype != "application/dicom":
                        raise NetError(f"unexpected part type {ctype!r} in WADO-RS response", category="http")
                    pending = store.open_pending()  # refuses when the disk is at the floor
                    size = 0
                    part_deadline = time.monotonic() + self.target.deadline
                elif kind == "data" and isinstance(value, bytes):
                    size += len(value)
                    if size > max_part:  # an endless part must not fill the disk
                        raise NetError(f"WADO-RS {url}: an instance larger than {max_part} bytes; stopped",
                                       category="http")
                    assert pending is not None  # iter_events: a part's headers come before its data
                    pending.write([value])
                    if pending.error is not None:
                        raise pending.error
                elif kind == "end":  # part complete: its close delimiter has arrived
                    assert pending is not None
                    path = _commit_part(pending)
                    pending = None
                    count += 1
                    yield path
                    part_deadline = time.monotonic() + self.target.deadline
        except _multipart.MultipartError as exc:
            raise NetError(f"WADO-RS {url}: {exc}", category="connection") from exc
        except StoreLimitError as exc:
            raise NetError(f"WADO-RS {url}: the local store refused the instance: {exc}", category="store") from exc
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise NetError(f"WADO-RS {url}: connection lost: {reason(exc)}", category="connection") from exc
        finally:
            if pending is not None:
                pending.discard()
            rsp.close()
        log.info("WADO-RS %s: %d instance(s)", url, count)


def _collect_parts(rsp: "requests.Response") -> Iterator[bytes]:
    """The bodies of a multipart response already read (``rsp.content``)."""
    boundary = _multipart.boundary_of(rsp.headers.get("Content-Type", ""))
    body = bytearray()
    for kind, value in _multipart.iter_events([rsp.content], boundary):
        if kind == "data" and isinstance(value, bytes):
            body.extend(value)
        elif kind == "end":
            yield bytes(body)
            body.clear()


def _commit_part(pending: "PendingFile") -> Path:
    """Check a received file and give it its name in the store (never over another object)."""
    from viewer.dicom.headers import read_header

    pending._close()  # flushed before it is read back
    try:
        ds = read_header(pending.tmp)
        study, series, sop = ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID
    except (ReadError, AttributeError) as exc:
        pending.discard()
        raise NetError(f"server sent a part that is not a DICOM instance: {exc}", category="http") from exc
    try:
        return pending.commit(study, series, sop)
    finally:
        pending.discard()  # the object is linked under its name; the temporary name goes
