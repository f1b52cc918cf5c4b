"""C-STORE SCU: send DICOM files to a Storage SCP (PS3.4 B, PS3.7 9.1.1).

Presentation contexts are proposed per (SOP class, transfer syntax) actually present in the
files, each compressed syntax with an uncompressed fallback context, at most 128 contexts
per association (PS3.8 9.3.2.2: the context ID is an odd number 1..255); more SOP classes
mean several associations in turn. A file whose compressed syntax the peer declined is
decompressed with pydicom and sent as Explicit VR Little Endian.

Every instance gets a :class:`StoreResult` with its DIMSE status and category: warnings
(e.g. 0xB000 coercion of data elements, PS3.4 B.2.3) are kept apart from failures, and a
SOP class the peer rejects at association fails only its own instances.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import Cancelled, NetError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset
    from pynetdicom.association import Association

    from viewer.config import DimseNode

log = logging.getLogger(__name__)

#: PS3.8 9.3.2.2: at most 128 presentation contexts (odd IDs 1..255) per association.
MAX_CONTEXTS = 128
#: Uncompressed syntaxes every Storage SCP must understand (PS3.5 10.1: Implicit VR LE is
#: the default transfer syntax); offered as the fallback for every SOP class.
UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
_NATIVE = {ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian}
#: Bound on waiting for a parallel sender thread after a stop (each wait inside is bounded).
_JOIN_TIMEOUT = 120.0


class Category:
    """Outcome of one instance (string constants, as pynetdicom's ``status`` module)."""

    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True)
class StoreItem:
    """One file to send, with the identifiers read from its File Meta Information.

    Attributes
    ----------
    path : Path
        The DICOM file (PS3.10 format).
    sop_class_uid, sop_instance_uid, transfer_syntax_uid : str
        From (0002,0002), (0002,0003) and (0002,0010).
    """

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    #: False for a bare data set without the PS3.10 header (read with ``force``,
    #: Implicit VR Little Endian assumed as PS3.5 10.1 makes it the default).
    has_meta: bool = True


@dataclass
class StoreResult:
    """What happened to one instance.

    Attributes
    ----------
    item : StoreItem
    status : int or None
        DIMSE status of the C-STORE response; None when no request was sent.
    category : str
        One of :class:`Category`.
    message : str
        Human-readable reason for a warning or failure, empty on success.
    sent_as : str
        Transfer syntax UID the data set was sent in (empty if not sent).
    """

    item: StoreItem
    status: int | None
    category: str
    message: str = ""
    sent_as: str = ""

    def to_json(self) -> dict[str, object]:
        """A JSON-able dict for reports."""
        return {
            "path": str(self.item.path), "sop_class_uid": self.item.sop_class_uid,
            "sop_instance_uid": self.item.sop_instance_uid, "status": self.status,
            "category": self.category, "message": self.message, "sent_as": self.sent_as,
        }


@dataclass(frozen=True)
class StoreTarget:
    """Where to send: a Storage SCP.

    Attributes
    ----------
    host : str
    port : int
    called_aet : str
    calling_aet : str
    timeout : float
        Bound on ACSE, DIMSE and network waits, and on the TCP connect (seconds).
    """

    host: str
    port: int
    called_aet: str
    calling_aet: str = "VIEWER"
    timeout: float = 30.0


@dataclass
class _Group:
    """Items sent on one association, and the contexts proposed for them."""

    items: list[StoreItem] = field(default_factory=list)
    contexts: list[tuple[str, list[str]]] = field(default_factory=list)


def classify(status: int) -> str:
    """Category of a C-STORE status (PS3.4 B.2.3, PS3.7 C).

    Parameters
    ----------
    status : int
        The (0000,0900) Status value.

    Returns
    -------
    str
        ``Category.SUCCESS`` for 0x0000, ``Category.WARNING`` for 0x0001 and 0xBxxx,
        ``Category.FAILURE`` otherwise.
    """
    if status == 0x0000:
        return Category.SUCCESS
    # PS3.7 C.4: Warning statuses are 0x0001 and 0xBxxx (e.g. B000 coercion, B007, B006).
    if status == 0x0001 or (status & 0xF000) == 0xB000:
        return Category.WARNING
    return Category.FAILURE


def _contexts_for(sop_class: str, syntaxes: set[str]) -> list[tuple[str, list[str]]]:
    """Contexts for one SOP class: native syntaxes together, each compressed one alone."""
    native: list[str] = list(UNCOMPRESSED)
    if ExplicitVRBigEndian in syntaxes:
        native.append(ExplicitVRBigEndian)
    out: list[tuple[str, list[str]]] = [(sop_class, native)]
    for ts in sorted(syntaxes - _NATIVE):
        out.append((sop_class, [ts]))
    return out


def plan(items: Sequence[StoreItem], max_contexts: int = MAX_CONTEXTS) -> list[_Group]:
    """Split ``items`` into association groups of at most ``max_contexts`` contexts.

    Parameters
    ----------
    items : sequence of StoreItem
    max_contexts : int
        Contexts per association (PS3.8 9.3.2.2 allows 128).

    Returns
    -------
    list
        Groups in first-seen SOP class order; every SOP class lies in exactly one group.
    """
    by_class: dict[str, list[StoreItem]] = {}
    for item in items:
        by_class.setdefault(item.sop_class_uid, []).append(item)
    groups: list[_Group] = []
    current = _Group()
    for sop_class, members in by_class.items():
        cxs = _contexts_for(sop_class, {m.transfer_syntax_uid for m in members})
        if len(cxs) > max_contexts:  # absurd: >127 compressed syntaxes for one class
            cxs = cxs[:max_contexts]
        if current.contexts and len(current.contexts) + len(cxs) > max_contexts:
            groups.append(current)
            current = _Group()
        current.contexts.extend(cxs)
        current.items.extend(members)
    if current.items:
        groups.append(current)
    return groups


def _accepted(assoc: Association) -> dict[str, set[str]]:
    """SOP class -> transfer syntaxes the peer accepted on this association."""
    out: dict[str, set[str]] = {}
    for cx in assoc.accepted_contexts:
        out.setdefault(str(cx.abstract_syntax), set()).update(str(ts) for ts in cx.transfer_syntax)
    return out


def _prepare(item: StoreItem, accepted: set[str],
             modify: Callable[[Dataset], Dataset] | None) -> tuple[Dataset, str]:
    """Read ``item`` and bring it into a syntax the peer accepted; (dataset, syntax)."""
    ts = item.transfer_syntax_uid
    ds = read_dataset(item)
    if modify is not None:
        ds = modify(ds)
    if ts in accepted:
        return ds, ts
    if ts == DeflatedExplicitVRLittleEndian and accepted & set(UNCOMPRESSED):
        # pydicom has inflated the data set on reading; underneath it is Explicit VR LE
        # (PS3.5 A.5), so only the File Meta changes.
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        return ds, ExplicitVRLittleEndian
    if UID(ts).is_compressed:
        if not (accepted & set(UNCOMPRESSED)):
            raise NetError(f"peer accepts neither {UID(ts).name} nor an uncompressed syntax for "
                           f"{UID(item.sop_class_uid).name}")
        # The peer declined the compressed syntax: decompress (PS3.5 8.2) and send natively.
        try:
            ds.decompress()
        except Exception as exc:  # any codec failure means "cannot transcode"
            raise NetError(f"cannot decompress {UID(ts).name} for a peer that accepts only "
                           f"uncompressed data: {exc}") from exc
        return ds, str(ds.file_meta.TransferSyntaxUID)
    if ts == ExplicitVRBigEndian and accepted & set(UNCOMPRESSED):
        return _to_little_endian(ds), ExplicitVRLittleEndian
    if accepted & set(UNCOMPRESSED):
        return ds, ts  # pynetdicom converts between the little-endian native syntaxes
    raise NetError(f"no accepted transfer syntax for {UID(ts).name}")


def _to_little_endian(ds: Dataset) -> Dataset:
    """Re-encode a big-endian data set as Explicit VR Little Endian (PS3.5 A.3 is retired).

    pydicom swaps numeric VRs when writing; Pixel Data (OW) is kept as raw bytes, so it is
    rewritten from the decoded array. Other OW elements (curves, LUT data) are rare in
    big-endian files and are not swapped.
    """
    import numpy as np

    if "PixelData" in ds and int(ds.get("BitsAllocated", 8)) > 8:
        arr = ds.pixel_array
        ds.PixelData = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        if int(ds.get("SamplesPerPixel", 1)) > 1:
            ds.PlanarConfiguration = 0  # pixel_array is colour-by-pixel
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.set_original_encoding(False, True)
    return ds


def send(target: "StoreTarget | DimseNode", items: Sequence[StoreItem], *,
         progress: Callable[[StoreResult, int, int], None] | None = None,
         cancel: CancelToken | None = None,
         modify: Callable[[Dataset], Dataset] | None = None,
         associations: int = 1, calling_aet: str = "VIEWER") -> Iterator[StoreResult]:
    """Send ``items`` by C-STORE, yielding one :class:`StoreResult` per item.

    Parameters
    ----------
    target : StoreTarget or viewer.config.DimseNode
        Where to send; a configured node brings its timeouts and TLS options.
    items : sequence of StoreItem
    progress : callable, optional
        ``progress(result, done, total)`` after each instance.
    cancel : viewer.cancel.CancelToken, optional
        Checked between instances; when set the association is released and
        :class:`~viewer.errors.Cancelled` raised (results already yielded stand).
    modify : callable, optional
        ``modify(dataset) -> dataset`` applied before sending (identity coercion).
    calling_aet : str
        Our AE title with a configured node (a StoreTarget carries its own).
    associations : int
        Parallel associations per group of SOP classes. Each C-STORE waits for its
        response, so a peer's per-instance latency, not the bandwidth, bounds one
        association; several in parallel hide it. Results then arrive out of order.

    Yields
    ------
    StoreResult

    Raises
    ------
    NetError
        An association could not be established or was lost.
    Cancelled
        ``cancel`` was set.
    """
    peer = _node_of(target, calling_aet)
    total = len(items)
    done = 0
    for group in plan(items):
        if cancel is not None:
            cancel.raise_if_cancelled("send cancelled")
        n = max(1, min(associations, len(group.items)))
        if n == 1:
            stream = _send_group(peer, group.contexts, group.items, modify, cancel)
        else:
            stream = _parallel(peer, group, n, modify, cancel)
        for result in stream:
            done += 1
            if progress is not None:
                progress(result, done, total)
            yield result


def _parallel(peer: tuple[DimseNode, str], group: _Group, n: int, modify: Callable[[Dataset], Dataset] | None,
              cancel: CancelToken | None) -> Iterator[StoreResult]:
    """Run ``n`` associations in threads over interleaved shares of ``group``.

    The threads watch ``stop``: a child of the user's token, also set when one association
    fails or the consumer goes away (so its siblings end too).
    """
    import queue

    if cancel is not None:
        stop, unlink = cancel.child()
    else:
        stop, unlink = CancelToken(), (lambda: None)
    # A result, a worker's exception, or None when a worker is done.
    out: queue.Queue[StoreResult | BaseException | None] = queue.Queue()

    def worker(share: list[StoreItem]) -> None:
        try:
            for r in _send_group(peer, group.contexts, share, modify, stop):
                out.put(r)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
            out.put(exc)
        finally:
            out.put(None)

    threads = [threading.Thread(target=worker, args=(group.items[i::n],), name=f"store-scu-{i}", daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    error: BaseException | None = None
    running = n
    try:
        while running:
            value = out.get()
            if isinstance(value, StoreResult):
                yield value
            elif isinstance(value, BaseException):
                if error is None and not (isinstance(value, Cancelled) and stop.cancelled
                                          and not is_cancelled(cancel)):
                    error = value
                stop.cancel()
            else:
                running -= 1
    finally:
        stop.cancel()
        unlink()
        for t in threads:
            t.join(timeout=_JOIN_TIMEOUT)
    if error is not None:
        raise error


def _node_of(target: StoreTarget | DimseNode, calling_aet: str) -> tuple[DimseNode, str]:
    """(DimseNode, calling AE title) for a :class:`StoreTarget` or a configured node."""
    from viewer.config import DimseNode, Timeouts

    if isinstance(target, StoreTarget):
        node = DimseNode(name=f"{target.called_aet}@{target.host}", ae_title=target.called_aet, host=target.host,
                         port=target.port, timeouts=Timeouts.uniform(target.timeout))
        return node, target.calling_aet
    return target, calling_aet


def _send_group(peer: tuple[DimseNode, str], contexts: list[tuple[str, list[str]]], items: Sequence[StoreItem],
                modify: Callable[[Dataset], Dataset] | None, cancel: CancelToken | None) -> Iterator[StoreResult]:
    """One association carrying ``items`` (opened by :func:`viewer.net.association.associate`,
    which brings the node's timeouts, TLS and a rejection's reason)."""
    from viewer.net.association import Context, associate, release

    node, calling = peer
    log.info("C-STORE to %s: %d contexts for %d instances", node.ae_title, len(contexts), len(items))
    assoc = associate(node, calling, [Context(sop, tuple(ts)) for sop, ts in contexts], token=cancel)
    try:
        _no_delay(assoc)
        accepted = _accepted(assoc)
        lost = f"association with {node.ae_title} was lost (aborted by the peer or timed out)"
        for item in items:
            if cancel is not None:
                cancel.raise_if_cancelled("send cancelled")
            if not assoc.is_established:
                raise NetError(lost)
            result = _send_one(assoc, item, accepted.get(item.sop_class_uid, set()), modify)
            yield result
            if not assoc.is_established:
                raise NetError(f"{lost}: {result.message}" if result.message else lost)
    finally:
        release(assoc)


def _no_delay(assoc: Association) -> None:
    """Disable Nagle's algorithm on the association's socket.

    A C-STORE is a small command PDU followed by data PDUs, then a wait for the response:
    with Nagle on, the last small segment waits for the ACK the peer delays (~40 ms on
    Linux), every instance. Measured against Orthanc: 93 -> 51 ms per small instance.
    """
    import socket

    transport = assoc.dul.socket
    sock = transport.socket if transport is not None else None
    try:
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:  # not fatal: only slower
        log.debug("could not set TCP_NODELAY: %s", exc)


def _send_one(assoc: Association, item: StoreItem, accepted: set[str],
              modify: Callable[[Dataset], Dataset] | None) -> StoreResult:
    if not accepted:
        # PS3.8 9.3.3.2: the peer rejected every context for this SOP class.
        return StoreResult(item, None, Category.FAILURE,
                           f"peer does not accept {UID(item.sop_class_uid).name}")
    if modify is None and item.has_meta and item.transfer_syntax_uid in accepted:
        # Fast path: the file's data set bytes as they are, read in PDU-sized chunks --
        # no decode/encode (byte-identical, and ~40% less CPU per instance).
        _chunked_file_sends()
        return _finish(assoc, item, str(item.path), item.transfer_syntax_uid)
    try:
        ds, ts = _prepare(item, accepted, modify)
    except NetError as exc:
        return StoreResult(item, None, Category.FAILURE, str(exc))
    except Exception as exc:  # noqa: BLE001 - a broken file fails only itself
        return StoreResult(item, None, Category.FAILURE, f"cannot read {item.path}: {exc}")
    return _finish(assoc, item, ds, ts)


def _chunked_file_sends() -> None:
    """Let ``send_c_store(path)`` stream the file instead of decoding it (pynetdicom's
    documented ``_config.STORE_SEND_CHUNKED_DATASET``; it changes nothing for callers that
    pass a Dataset, which is what every other part of the viewer does)."""
    from pynetdicom import _config

    _config.STORE_SEND_CHUNKED_DATASET = True


def _finish(assoc: Association, item: StoreItem, what: Dataset | str, ts: str) -> StoreResult:
    """Send ``what`` (a Dataset or a file path) and classify the response."""
    try:
        rsp = assoc.send_c_store(what)
    except RuntimeError:  # pynetdicom: the association went away since the last check
        return StoreResult(item, None, Category.FAILURE, "association lost before sending")
    except (ValueError, AttributeError) as exc:
        return StoreResult(item, None, Category.FAILURE, f"cannot encode: {exc}")
    except OSError as exc:  # the file went away or became unreadable since the scan
        return StoreResult(item, None, Category.FAILURE, f"cannot read {item.path}: {exc}")
    if rsp is None or "Status" not in rsp:
        return StoreResult(item, None, Category.FAILURE, "no response (timeout or abort)", ts)
    status = int(rsp.Status)
    category = classify(status)
    message = ""
    if category != Category.SUCCESS:
        comment = rsp.get("ErrorComment", "")
        message = f"status 0x{status:04X}" + (f": {comment}" if comment else "")
        log.log(logging.WARNING if category == Category.WARNING else logging.ERROR,
                "%s %s", item.sop_instance_uid, message)
    return StoreResult(item, status, category, message, ts)


def read_dataset(item: StoreItem) -> Dataset:
    """The whole data set of ``item``, with File Meta Information (made up when absent)."""
    from pydicom import dcmread
    from pydicom.dataset import FileMetaDataset

    if item.has_meta:
        return dcmread(item.path)
    ds = dcmread(item.path, force=True)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(item.sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(item.sop_instance_uid)
    meta.TransferSyntaxUID = UID(item.transfer_syntax_uid)
    ds.file_meta = meta
    return ds


def _read_bare(path: Path) -> StoreItem | None:
    """A data set without PS3.10 header: accepted only if it parses as Implicit VR LE
    (the PS3.5 default syntax) and has SOP Class and Instance UIDs."""
    from pydicom import dcmread

    try:
        ds = dcmread(path, force=True, stop_before_pixels=True, specific_tags=["SOPClassUID", "SOPInstanceUID"])
        sop_class, sop_inst = str(ds.SOPClassUID), str(ds.SOPInstanceUID)
    except Exception:  # noqa: BLE001 - anything unreadable is simply not DICOM
        return None
    if not (ds.original_encoding == (True, True) and re.fullmatch(r"[0-9.]{3,64}", sop_class)
            and re.fullmatch(r"[0-9.]{3,64}", sop_inst)):
        return None
    return StoreItem(Path(path), sop_class, sop_inst, ImplicitVRLittleEndian, has_meta=False)


def read_item(path: Path) -> StoreItem | None:
    """A :class:`StoreItem` from the file meta of ``path``, or None if not a DICOM file.

    DICOMDIR files (Media Storage Directory Storage, PS3.3 F) are not instances and
    give None too.
    """
    from pydicom.errors import InvalidDicomError
    from pydicom.filereader import read_file_meta_info

    try:
        meta = read_file_meta_info(path)
    except InvalidDicomError:
        return _read_bare(path)
    except (OSError, ValueError, EOFError, KeyError):
        return None
    try:
        sop_class = str(meta.MediaStorageSOPClassUID)
        sop_inst = str(meta.MediaStorageSOPInstanceUID)
        ts = str(meta.TransferSyntaxUID)
    except AttributeError:
        return None
    if sop_class == "1.2.840.10008.1.3.10":  # Media Storage Directory Storage (DICOMDIR)
        return None
    return StoreItem(Path(path), sop_class, sop_inst, ts)


def iter_items(paths: Iterable[Path], skipped: list[Path] | None = None) -> Iterator[StoreItem]:
    """Walk files and folders (recursively, sorted) and yield the DICOM files among them.

    Parameters
    ----------
    paths : iterable of Path
    skipped : list, optional
        Receives the paths of files that are not DICOM (PS3.10) files.
    """
    for p in paths:
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            item = read_item(f)
            if item is None:
                if skipped is not None:
                    skipped.append(f)
                continue
            yield item
