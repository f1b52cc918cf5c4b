"""The DICOM Print Management SCU wire protocol (PS3.4 Annex H), blocking and timeout-bounded.

One :class:`PrintAssociation` is one association with a printer. It proposes only the meta
SOP classes (Basic Grayscale / Color Print Management Meta) plus, when wanted, Presentation
LUT, Print Job and Basic Annotation Box (never the individual box classes: printers reject
those), and offers one method per DIMSE-N request. Every response status is classified:
0xB6xx and other warnings are collected in :attr:`PrintAssociation.warnings` and logged,
never raised (PS3.4 H.4); failures raise :class:`~viewer.errors.PrintError` carrying the
status, its meaning and the offending attributes. Knows nothing about films (docs/architecture.md:
``film`` and ``net`` do not import each other); :mod:`viewer.tasks.print_run` joins them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import N_EVENT_REPORT
from pynetdicom.events import Event, EventHandlerType
from pynetdicom.pdu_primitives import A_ASSOCIATE
from pynetdicom.status import PRINT_JOB_MANAGEMENT_SERVICE_CLASS_STATUS, code_to_category

from viewer.cancel import CancelToken
from viewer.config import TlsOptions
from viewer.errors import NetError, PrintError
from viewer.net.fastpath.response_guard import guard

log = logging.getLogger(__name__)

GRAYSCALE_META = "1.2.840.10008.5.1.1.9"
COLOR_META = "1.2.840.10008.5.1.1.18"
PRESENTATION_LUT = "1.2.840.10008.5.1.1.23"
PRINT_JOB = "1.2.840.10008.5.1.1.14"
ANNOTATION_BOX = "1.2.840.10008.5.1.1.15"
PRINTER = "1.2.840.10008.5.1.1.16"
PRINTER_INSTANCE = "1.2.840.10008.5.1.1.17"

#: N-CREATE-RSP command field (PS3.7 E.1): the response whose Affected SOP Instance UID we read.
_N_CREATE_RSP = 0x8140


@dataclass
class PrinterAddress:
    """Where the printer is and how long to wait for it."""

    host: str
    port: int
    called_aet: str
    calling_aet: str = "VIEWER"
    #: bound of every wait for an answer (ACSE, DIMSE, network), seconds
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_pdu: int = 16384
    implicit_only: bool = False
    #: DICOM over TLS (PS3.15 B.9, BCP 195): verify the printer with ``tls.ca_file``, present
    #: ``tls.cert_file`` when it asks for a client certificate; None = plain TCP
    tls: TlsOptions | None = None


@dataclass
class JobEvent:
    """A Print Job or Printer N-EVENT-REPORT the printer sent (PS3.4 H.4.2.1.2, H.4.4.1.2)."""

    class_uid: str
    instance_uid: str
    event_type: int
    attributes: Dataset | None = None
    received: float = field(default_factory=time.monotonic)


def status_meaning(code: int) -> str:
    """PS3.4 H.4 / PS3.7 C meaning of a print status code (pynetdicom's table)."""
    return PRINT_JOB_MANAGEMENT_SERVICE_CLASS_STATUS.get(code, ("", "unknown status"))[1] or "success"


def _offending(rsp: Dataset) -> str:
    """Names of the attributes a failure response points at (0000,1005) and its comment."""
    parts = []
    if "AttributeIdentifierList" in rsp:
        value = rsp.AttributeIdentifierList
        tags = value if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") else [value]
        names = []
        for t in tags:
            kw = keyword_for_tag(int(t)) or ""
            where = f"({int(t) >> 16:04X},{int(t) & 0xFFFF:04X})"
            names.append(f"{kw} {where}" if kw else where)
        if names:
            parts.append("offending attribute: " + ", ".join(names))
    if rsp.get("ErrorComment"):
        parts.append(f"printer says: {rsp.ErrorComment}")
    return ("; " + "; ".join(parts)) if parts else ""


def _offending_tags(rsp: Dataset) -> list[int]:
    """Attribute Identifier List (0000,1005) of a response, as ints."""
    if "AttributeIdentifierList" not in rsp:
        return []
    value = rsp.AttributeIdentifierList
    items = value if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") else [value]
    try:
        return [int(t) for t in items]
    except (TypeError, ValueError):
        return []


def _no_delay(assoc: Association) -> None:
    """Disable Nagle's algorithm on the association's socket.

    Every DIMSE message goes out as a command P-DATA and a data set P-DATA; with Nagle on,
    the second write waits for the peer's delayed ACK (~40 ms on Linux). The printer's
    side has the same problem in its responses: DCMTK's dcmprscp leaves Nagle on unless
    its environment has TCP_NODELAY=1, which costs ~45 ms per request on loopback
    (bench/print.py measures both).
    """
    import socket

    transport = assoc.dul.socket
    sock = transport.socket if transport is not None else None
    try:
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        log.debug("cannot set TCP_NODELAY", exc_info=True)


class PrintAssociation:
    """An association with a DICOM printer and the DIMSE-N requests of PS3.4 H.

    Parameters
    ----------
    address : PrinterAddress
    grayscale, color : bool
        Propose the Basic Grayscale / Color Print Management Meta SOP classes.
    presentation_lut, print_job, annotation : bool
        Also propose Presentation LUT, Print Job, Basic Annotation Box.
    cancel : viewer.cancel.CancelToken, optional
        Checked before every request; when set, :class:`~viewer.errors.Cancelled` is raised.
    on_event : callable, optional
        Called (in pynetdicom's thread) with each :class:`JobEvent` received.
    """

    def __init__(self, address: PrinterAddress, *, grayscale: bool = True, color: bool = False,
                 presentation_lut: bool = False, print_job: bool = False, annotation: bool = False,
                 cancel: CancelToken | None = None, on_event: Callable[[JobEvent], None] | None = None) -> None:
        self.address = address
        self._want = {GRAYSCALE_META: grayscale, COLOR_META: color, PRESENTATION_LUT: presentation_lut,
                      PRINT_JOB: print_job, ANNOTATION_BOX: annotation}
        self.cancel = cancel
        self.on_event = on_event
        self.warnings: list[str] = []
        self.events: "queue.Queue[JobEvent]" = queue.Queue()
        self.accepted: set[str] = set()
        self._assoc: Association | None = None
        self._last_created_uid: str | None = None
        self._lock = threading.Lock()
        self._reject: str | None = None
        self._sent_at = time.monotonic()
        self._message_id = 0
        #: Message IDs used, in order (each request has its own, PS3.7 9.1.1.1)
        self.message_ids: list[int] = []
        #: the status and offending attributes of the last failure response
        self.last_status = 0
        self.last_offending: list[int] = []

    def _next_id(self) -> int:
        """A new Message ID (0000,0110) for the next request: unique on this association (PS3.7 9.1.1.1)."""
        self._message_id = self._message_id % 0xFFFF + 1
        self.message_ids.append(self._message_id)
        return self._message_id

    # ------------------------------------------------------------------ association
    @property
    def where(self) -> str:
        a = self.address
        return f"{a.called_aet}@{a.host}:{a.port}"

    def open(self) -> set[str]:
        """Associate; returns the accepted abstract syntaxes.

        Raises
        ------
        PrintError
            The printer cannot be reached, rejects the association, or accepts no print
            meta SOP class.
        """
        self._check_cancel()
        a = self.address
        ae = AE(ae_title=a.calling_aet)
        ae.connection_timeout = a.connect_timeout
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = a.timeout
        ae.maximum_pdu_size = a.max_pdu
        ts = [ImplicitVRLittleEndian] if a.implicit_only else [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
        for uid, wanted in self._want.items():
            if wanted:
                ae.add_requested_context(uid, ts)
        handlers: list[EventHandlerType] = [(evt.EVT_DIMSE_RECV, self._on_dimse_recv),
                                            (evt.EVT_N_EVENT_REPORT, self._on_event_report),
                                            (evt.EVT_ACSE_RECV, self._on_acse)]
        kwargs: dict[str, Any] = {}
        if a.tls is not None:
            from viewer.net.association import client_tls_args

            try:
                kwargs["tls_args"] = client_tls_args(a.tls, a.host, f"printer {self.where}")
            except NetError as exc:
                raise PrintError(str(exc), category="Failure") from None
        log.info("print: associating %s -> %s%s", a.calling_aet, self.where, " (TLS)" if a.tls else "")
        assoc = ae.associate(a.host, a.port, ae_title=a.called_aet, evt_handlers=handlers,
                             max_pdu=a.max_pdu, **kwargs)
        if not assoc.is_established:
            if self._reject:
                raise PrintError(f"printer {self.where} rejected the association: {self._reject}", category="Failure")
            if a.tls is not None:
                from viewer.net.association import diagnose_connect

                why = diagnose_connect(a.host, a.port, a.connect_timeout, kwargs["tls_args"])
                raise PrintError(f"cannot associate with printer {self.where} over TLS: {why}", category="Failure")
            raise PrintError(f"cannot associate with printer {self.where}: connection refused, aborted "
                             f"or no answer within {a.timeout:g} s", category="Failure")
        self._assoc = assoc
        _no_delay(assoc)
        guard(assoc)  # responses are for the waiting request, not the reactor (net.fastpath.response_guard)
        self.accepted = {str(cx.abstract_syntax) for cx in assoc.accepted_contexts if cx.abstract_syntax}
        for uid, wanted in self._want.items():
            if wanted and uid not in self.accepted:
                log.info("print: %s rejected SOP class %s", self.where, uid)
        if not ({GRAYSCALE_META, COLOR_META} & self.accepted):
            self.abort()
            raise PrintError(f"printer {self.where} accepted no print meta SOP class (proposed: "
                             + ", ".join(u for u in (GRAYSCALE_META, COLOR_META) if self._want[u]) + ")",
                             category="Failure")
        return set(self.accepted)

    def _on_acse(self, event: Event) -> None:
        p = getattr(event, "primitive", None)  # set by pynetdicom on ACSE events
        if isinstance(p, A_ASSOCIATE) and p.result in (0x01, 0x02):
            self._reject = f"{p.result_str}, source: {p.source_str}, reason: {p.reason_str}"

    def _on_dimse_recv(self, event: Event) -> None:
        # pynetdicom's send_n_create() does not return the Affected SOP Instance UID the SCP
        # assigned (peers README); read it from the N-CREATE-RSP command set.
        cs = event.message.command_set
        if cs.get("CommandField") == _N_CREATE_RSP and "AffectedSOPInstanceUID" in cs:
            with self._lock:
                self._last_created_uid = str(cs.AffectedSOPInstanceUID)

    def _on_event_report(self, event: Event) -> tuple[int, None]:
        # PS3.4 H.4.4.1.2: acknowledge every report, even while another response is awaited.
        req = event.request
        if not isinstance(req, N_EVENT_REPORT):  # the only request bound to this handler
            return 0x0000, None
        info = None
        try:
            info = event.event_information
        except Exception:  # a malformed event body must not kill the association
            log.debug("cannot decode event information", exc_info=True)
        ev = JobEvent(str(req.AffectedSOPClassUID), str(req.AffectedSOPInstanceUID), int(req.EventTypeID or 0), info)
        log.info("print: event %s type %d from %s", ev.class_uid, ev.event_type, self.where)
        self.events.put(ev)
        if self.on_event is not None:
            try:
                self.on_event(ev)
            except Exception:
                log.debug("on_event callback failed", exc_info=True)
        return 0x0000, None

    @property
    def proposed(self) -> set[str]:
        """The abstract syntaxes proposed at association."""
        return {uid for uid, wanted in self._want.items() if wanted}

    @property
    def meta_uid(self) -> str:
        """The meta SOP class in use: color when accepted and wanted, else grayscale."""
        if self._want[COLOR_META] and COLOR_META in self.accepted:
            return COLOR_META
        return GRAYSCALE_META

    @property
    def is_established(self) -> bool:
        return bool(self._assoc is not None and self._assoc.is_established)

    def release(self) -> None:
        """Release (abort if the printer does not answer the release)."""
        assoc = self._assoc
        if assoc is not None and assoc.is_established:
            try:
                assoc.release()
            except Exception:
                log.debug("release failed; aborting", exc_info=True)
                assoc.abort()

    def abort(self) -> None:
        """A-ABORT; by PS3.4 H.4.1.2.1 the printer discards the film session hierarchy."""
        if self._assoc is not None and self._assoc.is_established:
            self._assoc.abort()

    def _established(self) -> Association:
        """The association, for a DIMSE request (PrintError before :meth:`open`)."""
        if self._assoc is None:
            raise PrintError(f"not associated with printer {self.where}", category="Failure")
        return self._assoc

    def __enter__(self) -> "PrintAssociation":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # ------------------------------------------------------------------ statuses
    def _check_cancel(self) -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled("print cancelled")

    def _check(self, step: str, rsp: Dataset | None) -> int:
        """Classify a response status: warnings are kept, failures raised."""
        if rsp is None or "Status" not in rsp:
            # pynetdicom aborts by itself when the DIMSE timeout expires, so tell a silent
            # printer from one that aborted or hung up by how long the wait lasted.
            waited = time.monotonic() - self._sent_at
            if waited < 0.9 * self.address.timeout:
                self.abort()
                raise PrintError(f"{step}: printer {self.where} aborted the association or closed the "
                                 f"connection", category="Failure")
            self.abort()
            raise PrintError(f"{step}: no answer from printer {self.where} within {self.address.timeout:g} s; "
                             "association aborted", category="Failure")
        code = int(rsp.Status)
        self.last_status = code
        self.last_offending = _offending_tags(rsp)
        if code == 0x0000:
            log.debug("print: %s OK", step)
            return code
        category = code_to_category(code)
        text = f"{step}: status 0x{code:04X} {status_meaning(code)}{_offending(rsp)}"
        if category == "Warning" or (code & 0xF000) == 0xB000:
            log.warning("print: %s", text)
            self.warnings.append(text)
            return code
        raise PrintError(f"{step} failed: {text.split(': ', 1)[1]}", status=code, category=category)

    def _require(self, uid: str, what: str) -> None:
        if not self.is_established:
            raise PrintError(f"{what}: no association with {self.where}", category="Failure")
        if uid not in self.accepted:
            raise PrintError(f"{what}: printer {self.where} did not accept SOP class {uid}", category="Failure")

    # ------------------------------------------------------------------ DIMSE-N
    def get_printer(self, keywords: list[str] | None = None) -> Dataset:
        """N-GET Printer (PS3.4 H.4.6): only ``keywords`` (empty: ask for all the printer has).

        Some printers fail the whole N-GET (0x0105) when asked for an attribute they lack
        (PRINT-NOTES), so the default asks for nothing in particular.
        """
        self._check_cancel()
        self._require(self.meta_uid, "N-GET Printer")
        tags = [BaseTag(t) for t in map(tag_for_keyword, keywords or []) if t is not None]
        self._sent_at = time.monotonic()
        st, ds = self._established().send_n_get(tags, PRINTER, PRINTER_INSTANCE, msg_id=self._next_id(),
                                                meta_uid=self.meta_uid)
        self._check("N-GET Printer", st)
        return ds if ds is not None else Dataset()

    def create(self, step: str, class_uid: str, ds: Dataset, *, on_meta: bool = True,
               instance_uid: str | None = None) -> tuple[str, Dataset]:
        """N-CREATE; returns (instance UID, response attributes).

        We send our own SOP Instance UID (``instance_uid`` or a new one), as PS3.4 H allows
        the SCU to, and prefer the one the printer returns in the response.
        """
        self._check_cancel()
        meta = self.meta_uid if on_meta else None
        self._require(meta or class_uid, step)
        uid = instance_uid or generate_uid()
        with self._lock:
            self._last_created_uid = None
        self._sent_at = time.monotonic()
        st, attrs = self._established().send_n_create(ds, class_uid, uid, msg_id=self._next_id(), meta_uid=meta)
        self._check(step, st)
        with self._lock:
            returned = self._last_created_uid
        return returned or uid, attrs if attrs is not None else Dataset()

    def set(self, step: str, class_uid: str, instance_uid: str, ds: Dataset, *, on_meta: bool = True) -> Dataset:
        """N-SET, waiting for the response before anything else is sent (PRINT-NOTES: don't pipeline)."""
        self._check_cancel()
        meta = self.meta_uid if on_meta else None
        self._require(meta or class_uid, step)
        self._sent_at = time.monotonic()
        st, attrs = self._established().send_n_set(ds, class_uid, instance_uid, msg_id=self._next_id(), meta_uid=meta)
        self._check(step, st)
        return attrs if attrs is not None else Dataset()

    def action(self, step: str, class_uid: str, instance_uid: str, action_type: int = 1,
               on_send: Callable[[], None] | None = None) -> Dataset:
        """N-ACTION (Action Type ID 1 = print, PS3.4 H.4.2.2.3). Sent once, never retried:
        retries after a timeout have printed films twice (PRINT-NOTES). ``on_send`` is called
        just before the request goes out (after the last cancel check)."""
        self._check_cancel()
        self._require(self.meta_uid, step)
        if on_send is not None:
            on_send()
        self._sent_at = time.monotonic()
        st, attrs = self._established().send_n_action(None, action_type, class_uid, instance_uid,
                                                      msg_id=self._next_id(), meta_uid=self.meta_uid)
        self._check(step, st)
        return attrs if attrs is not None else Dataset()

    def get(self, step: str, class_uid: str, instance_uid: str, keywords: list[str], *,
            on_meta: bool = False) -> Dataset:
        """N-GET of ``keywords`` (e.g. Print Job Execution Status)."""
        self._check_cancel()
        meta = self.meta_uid if on_meta else None
        self._require(meta or class_uid, step)
        tags = [BaseTag(t) for t in map(tag_for_keyword, keywords) if t is not None]
        self._sent_at = time.monotonic()
        st, ds = self._established().send_n_get(tags, class_uid, instance_uid, msg_id=self._next_id(), meta_uid=meta)
        self._check(step, st)
        return ds if ds is not None else Dataset()

    def delete(self, step: str, class_uid: str, instance_uid: str, *, on_meta: bool = True) -> bool:
        """N-DELETE; never raises (it runs during clean-up). True when the printer confirmed."""
        if not self.is_established:
            return False
        meta = self.meta_uid if on_meta else None
        try:
            self._sent_at = time.monotonic()
            st = self._established().send_n_delete(class_uid, instance_uid, msg_id=self._next_id(), meta_uid=meta)
            self._check(step, st)
            return True
        except PrintError as exc:
            log.warning("print: %s", exc)
            self.warnings.append(str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - clean-up must go on
            log.warning("print: %s: %s", step, exc)
            return False

    def wait_events(self, timeout: float) -> JobEvent | None:
        """The next N-EVENT-REPORT received, or None after ``timeout`` seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None
