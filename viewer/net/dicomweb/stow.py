"""STOW-RS (PS3.18 10.5): instances POSTed in size-bounded batches, one result per instance.

A request body is read file by file while it is sent (:class:`StowBody`), so memory holds
one instance at a time; the reply (PS3.18 Table 10.5.3-1) is mapped back onto the items.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence
from urllib.parse import quote

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import Cancelled, NetError
from viewer.net import _multipart
from viewer.net.dicomweb._http import DICOM_JSON, Conflict, HttpClient
from viewer.net.storage_scu import Category, StoreItem, StoreResult

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

#: STOW-RS request size bound: many instances per request, bounded memory.
STOW_BATCH_BYTES = 32 << 20


class StowClient(HttpClient):
    """STOW-RS on one DICOMweb service (constructed as :class:`._http.HttpClient`)."""

    def store(self, items: Sequence[StoreItem], *, study_uid: str | None = None,
              progress: Callable[[StoreResult, int, int], None] | None = None,
              cancel: CancelToken | None = None,
              modify: Callable[["Dataset"], "Dataset"] | None = None,
              batch_bytes: int = STOW_BATCH_BYTES) -> Iterator[StoreResult]:
        """STOW-RS (PS3.18 10.5): POST instances in batches, one result per instance.

        Parameters
        ----------
        items : sequence of StoreItem
        study_uid : str, optional
            POST to ``studies/{uid}`` (the server then refuses other studies).
        progress, cancel, modify
            As in :func:`viewer.net.storage_scu.send`.
        batch_bytes : int
            Bound on the size of one request.

        Yields
        ------
        StoreResult
            ``status`` is 0 on success, the Warning/Failure Reason (0008,1196)/(0008,1197)
            otherwise, None when the server did not list the instance.
        """
        url = f"{self.base}/studies" + (f"/{quote(study_uid)}" if study_uid else "")
        total, done = len(items), 0
        for batch in _batches(items, batch_bytes):
            if is_cancelled(cancel):
                raise Cancelled("send cancelled")
            bodies: list[Path | bytes] = []
            ready: list[StoreItem] = []
            for item in batch:
                try:
                    if modify is None and item.has_meta:  # sent as it is, read while sending
                        if not os.access(item.path, os.R_OK):
                            raise OSError("not readable")
                        bodies.append(item.path)
                    else:
                        bodies.append(_file_bytes(item, modify))
                    ready.append(item)
                except Exception as exc:  # noqa: BLE001 - a broken file fails only itself
                    done += 1
                    r = StoreResult(item, None, Category.FAILURE, f"cannot read {item.path}: {exc}")
                    if progress:
                        progress(r, done, total)
                    yield r
            if not ready:
                continue
            boundary = _multipart.new_boundary()
            body = StowBody(bodies, boundary)
            headers = {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
                       "Accept": DICOM_JSON}
            try:
                rsp = self._request("POST", url, data=body, headers=headers)
                reply = self._datasets(rsp) if rsp.content else []
            except NetError as exc:
                # 409 Conflict: every instance failed, the body still says why (PS3.18 10.5.3).
                if isinstance(exc, Conflict):
                    reply = exc.response_json
                else:
                    raise
            for r in _stow_results(ready, reply[0] if reply else None):
                done += 1
                if progress:
                    progress(r, done, total)
                yield r


class StowBody:
    """The multipart body of one STOW-RS request, read file by file while it is sent.

    Memory holds one instance at a time, and the length is known up front, so the request
    carries a Content-Length rather than chunked transfer coding (which not every DICOMweb
    server accepts on upload).
    """

    def __init__(self, parts: Sequence[Path | bytes], boundary: str) -> None:
        self.parts = list(parts)
        self.boundary = boundary
        self.sizes = [p.stat().st_size if isinstance(p, Path) else len(p) for p in self.parts]
        framing = sum(len(piece) for piece in _multipart.encode([b""] * len(self.parts), boundary))
        self.length = framing + sum(self.sizes)

    def __len__(self) -> int:
        return self.length

    def _bodies(self) -> Iterator[bytes]:
        for part, size in zip(self.parts, self.sizes):
            data = part.read_bytes() if isinstance(part, Path) else part
            if len(data) != size:
                raise NetError(f"{part if isinstance(part, Path) else 'a part'} changed while it was being sent")
            yield data

    def __iter__(self) -> Iterator[bytes]:
        return _multipart.encode(self._bodies(), self.boundary)


def _batches(items: Sequence[StoreItem], limit: int) -> Iterator[list[StoreItem]]:
    batch: list[StoreItem] = []
    size = 0
    for item in items:
        n = item.path.stat().st_size if item.path.exists() else 0
        if batch and size + n > limit:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += n
    if batch:
        yield batch


def _file_bytes(item: StoreItem, modify: Callable[["Dataset"], "Dataset"] | None) -> bytes:
    """The PS3.10 file to send: the file itself, or re-encoded after ``modify``."""
    if modify is None and item.has_meta:
        return item.path.read_bytes()
    import io

    from viewer.net.storage_scu import read_dataset

    ds = read_dataset(item)
    if modify is not None:
        ds = modify(ds)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _stow_results(items: Iterable[StoreItem], reply: "Dataset | None") -> Iterator[StoreResult]:
    """Map a STOW-RS response (PS3.18 Table 10.5.3-1) onto the items sent."""
    ok: dict[str, int] = {}
    failed: dict[str, int] = {}
    for ref in (reply.get("ReferencedSOPSequence", []) if reply is not None else []):
        ok[str(ref.get("ReferencedSOPInstanceUID", ""))] = int(ref.get("WarningReason", 0) or 0)
    for ref in (reply.get("FailedSOPSequence", []) if reply is not None else []):
        failed[str(ref.get("ReferencedSOPInstanceUID", ""))] = int(ref.get("FailureReason", 0xC000) or 0xC000)
    for item in items:
        uid = item.sop_instance_uid
        if uid in failed:
            yield StoreResult(item, failed[uid], Category.FAILURE, f"refused, reason 0x{failed[uid]:04X}")
        elif uid in ok:
            code = ok[uid]
            if code:
                yield StoreResult(item, code, Category.WARNING, f"stored with warning 0x{code:04X}",
                                  item.transfer_syntax_uid)
            else:
                yield StoreResult(item, 0, Category.SUCCESS, "", item.transfer_syntax_uid)
        else:
            yield StoreResult(item, None, Category.FAILURE, "not listed in the STOW-RS response")
