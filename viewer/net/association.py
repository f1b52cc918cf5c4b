"""Associations with remote nodes: AE setup, timeouts, TLS, cancellation and status categories.

Every wait is bounded by the node's timeouts (connect, ACSE, DIMSE, network), every
operation takes a :class:`viewer.cancel.CancelToken`. Cancelling sends C-CANCEL where the service has
one (PS3.7 9.3.2.3) and aborts the association if the peer does not end the operation
within a grace period, so a blocked wait never outlives a cancel by more than that.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.events import Event, EventHandlerType
from pynetdicom.pdu_primitives import A_ASSOCIATE
from pynetdicom.presentation import PresentationContext
from pynetdicom.status import code_to_category

from viewer.cancel import CancelToken
from viewer.config import DimseNode, TlsOptions, validate_ae_title
from viewer.errors import Cancelled, NetError
from viewer.net import fastpath
from viewer.net.fastpath.response_guard import guard

log = logging.getLogger(__name__)

#: PS3.8 9.3.2.2: presentation context IDs are odd integers 1..255, so at most 128.
MAX_CONTEXTS = 128
#: Maximum PDU length we receive (PS3.8 9.3.2.3.1 allows up to 2^32-1): large enough that
#: a PACS sends most instances in one PDU, which saves per-PDU work in pynetdicom.
MAX_PDU = 4 * 1024 * 1024
#: Seconds to wait for the peer to end an operation after C-CANCEL before aborting.
CANCEL_GRACE = 3.0

# Status categories (PS3.7 Annex C), as pynetdicom.status names them.
SUCCESS = "Success"
PENDING = "Pending"
CANCEL = "Cancel"
WARNING = "Warning"
FAILURE = "Failure"


def status_category(status: int) -> str:
    """The category of a DIMSE status (PS3.7 C): Success, Pending, Cancel, Warning, Failure."""
    return code_to_category(status)


def status_of(rsp: Dataset | None) -> int | None:
    """The Status (0000,0900) of a response, or None when there was no valid response."""
    if rsp is None or "Status" not in rsp:
        return None
    return int(rsp.Status)


def describe_status(status: int) -> str:
    """``0xA702 (Failure)`` with pynetdicom's description when it knows one."""
    return f"0x{status:04X} ({status_category(status)})"


@dataclass(frozen=True)
class Context:
    """A presentation context to propose: abstract syntax, transfer syntaxes, roles (PS3.7 D.3.3.4)."""

    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...] = ()
    scu_role: bool | None = None
    scp_role: bool | None = None


def ssl_context(tls: TlsOptions) -> ssl.SSLContext:
    """A client TLS context: verify the peer with ``ca_file``; our certificate if given.

    BCP 195 limits (TLS 1.2+, AEAD suites; PS3.15 B.9) come from
    :func:`viewer.net.tls.harden_client`.
    """
    from viewer.net.tls import harden_client

    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=tls.ca_file or None)
    ctx.check_hostname = tls.check_hostname
    if tls.cert_file:
        ctx.load_cert_chain(tls.cert_file, tls.key_file or None)
    return harden_client(ctx)


def client_tls_args(tls: TlsOptions, host: str, name: str) -> tuple[ssl.SSLContext, str | None]:
    """pynetdicom's ``tls_args`` for a client association to ``host``; :class:`NetError`
    naming ``name`` when the CA, certificate or key cannot be loaded."""
    try:
        return ssl_context(tls), host if tls.check_hostname else None
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise NetError(f"TLS setup for {name}: {exc}") from exc


def make_ae(calling_aet: str, node: DimseNode) -> AE:
    """A pynetdicom AE titled ``calling_aet`` with the node's timeouts."""
    ae = AE(ae_title=validate_ae_title(calling_aet))
    t = node.timeouts
    ae.connection_timeout = t.connect
    ae.acse_timeout = t.acse
    ae.dimse_timeout = t.dimse
    ae.network_timeout = t.network
    ae.maximum_pdu_size = MAX_PDU
    return ae


def tune_connection(event: Event, fast_path: bool = False) -> None:
    """``EVT_CONN_OPEN`` handler: make a new association's transport answer promptly.

    * ``TCP_NODELAY``: DIMSE is request/response with small messages (C-STORE-RSP, pending
      C-GET-RSP); with Nagle's algorithm on, a small write can wait for the peer's delayed
      ACK (~40 ms on Linux).
    * ``fast_path`` (associations that retrieve instances: C-GET, C-MOVE, our storage SCP):
      the pynetdicom fast path (:func:`viewer.net.fastpath.install`), unless it is switched
      off or the pynetdicom version is not the one it was written for.
    """
    import socket

    transport = event.assoc.dul.socket
    raw = transport.socket if transport is not None else None
    try:
        if raw is not None:  # None: no socket (yet), nothing to tune
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # not TCP
        log.debug("could not set TCP_NODELAY", exc_info=True)
    if fast_path:
        fastpath.install(event.assoc)


class _Watch:
    """Remembers why an association failed (A-ASSOCIATE-RJ reason, A-ABORT)."""

    def __init__(self, fast_path: bool = False) -> None:
        self.fast_path = fast_path
        self.reject: str | None = None
        self.aborted = False
        self.connected = False

    def on_open(self, event: Event) -> None:
        self.connected = True
        tune_connection(event, self.fast_path)

    def on_acse(self, event: Event) -> None:
        p = getattr(event, "primitive", None)  # set by pynetdicom on ACSE events
        if isinstance(p, A_ASSOCIATE) and p.result in (0x01, 0x02):
            self.reject = f"{p.result_str}, source: {p.source_str}, reason: {p.reason_str}"

    def on_abort(self, event: Event) -> None:
        self.aborted = True

    def handlers(self) -> list[EventHandlerType]:
        return [(evt.EVT_ACSE_RECV, self.on_acse), (evt.EVT_ABORTED, self.on_abort),
                (evt.EVT_CONN_OPEN, self.on_open)]


def associate(node: DimseNode, calling_aet: str, contexts: Sequence[Context], *,
              evt_handlers: list[EventHandlerType] | None = None,
              token: CancelToken | None = None, require_accepted: bool = True,
              fast_path: bool = False) -> Association:
    """Open an association with ``node`` proposing ``contexts`` (at most 128).

    Role selection items (PS3.7 D.3.3.4) are sent for contexts with an explicit role.
    ``fast_path`` (C-GET, C-MOVE): the association gets the pynetdicom fast path
    (:func:`viewer.net.fastpath.install`); on a C-GET the ``EVT_C_STORE`` handler must then
    not wait on the association (C-STORE requests are served on the DUL thread).

    Raises
    ------
    NetError
        The peer cannot be reached, rejects the association (with its reason),
        or (``require_accepted``) accepts none of the contexts.
    Cancelled
        ``token`` was set before or during connection.
    """
    from pynetdicom import build_role

    if token is not None:
        token.raise_if_cancelled()
    if len(contexts) > MAX_CONTEXTS:
        raise NetError(f"{len(contexts)} presentation contexts proposed; PS3.8 9.3.2.2 allows {MAX_CONTEXTS}")
    ae = make_ae(calling_aet, node)
    roles = []
    for cx in contexts:
        if cx.transfer_syntaxes:
            ae.add_requested_context(cx.abstract_syntax, list(cx.transfer_syntaxes))
        else:
            ae.add_requested_context(cx.abstract_syntax)
        if cx.scu_role is not None or cx.scp_role is not None:
            roles.append(build_role(cx.abstract_syntax, scu_role=bool(cx.scu_role), scp_role=bool(cx.scp_role)))
    watch = _Watch(fast_path)
    kwargs: dict[str, Any] = {"ae_title": node.ae_title, "evt_handlers": watch.handlers() + list(evt_handlers or [])}
    if roles:
        kwargs["ext_neg"] = roles
    if node.tls is not None:
        kwargs["tls_args"] = client_tls_args(node.tls, node.host, node.name)
    where = f"{node.ae_title}@{node.host}:{node.port}"
    log.info("requesting association %s -> %s", calling_aet, where)
    started = time.monotonic()
    assoc = ae.associate(node.host, node.port, **kwargs)
    waited = time.monotonic() - started
    if token is not None and token.cancelled:
        if assoc.is_established:
            assoc.abort()
        raise Cancelled("cancelled")
    if assoc.is_established:
        if require_accepted and not assoc.accepted_contexts:
            assoc.abort()
            raise NetError(f"{where} accepted none of the proposed presentation contexts")
        guard(assoc)  # before the first send_*(): responses are for the request, not the reactor
        return assoc
    if watch.reject:
        raise NetError(f"association rejected by {where}: {watch.reject}")
    if assoc.is_aborted and assoc.rejected_contexts and not assoc.accepted_contexts:
        reasons = sorted({cx.status for cx in assoc.rejected_contexts})
        raise NetError(f"{where} accepted none of the proposed presentation contexts ({', '.join(reasons)})")
    if not watch.connected:
        raise NetError(f"cannot connect to {where}: {_diagnose_connect(node, kwargs.get('tls_args'))}")
    if watch.aborted and watch.connected and waited + 0.25 >= node.timeouts.acse:
        # pynetdicom aborts the association itself when the ACSE timeout (ARTIM) expires.
        raise NetError(f"no association with {where}: timeout: no A-ASSOCIATE answer within {node.timeouts.acse:g} s")
    if watch.aborted:
        # DCMTK servers close a rejected association right after the A-ASSOCIATE-RJ; when our
        # side still has bytes unread the close becomes a reset and the RJ is lost (seen with
        # dcmqrscp: ~1 in 6). Say what the usual causes are rather than only "aborted".
        raise NetError(f"association with {where} aborted during negotiation (the peer closed the "
                       f"connection without an answer: check the called AE title {node.ae_title!r} and "
                       f"that the peer knows our AE title)")
    raise NetError(f"no association with {where}: timeout: no A-ASSOCIATE answer within {node.timeouts.acse:g} s")


def _diagnose_connect(node: DimseNode, tls_args: tuple[ssl.SSLContext, str | None] | None) -> str:
    return diagnose_connect(node.host, node.port, node.timeouts.connect, tls_args)


def diagnose_connect(host: str, port: int, timeout: float,
                     tls_args: tuple[ssl.SSLContext, str | None] | None) -> str:
    """Why pynetdicom could not connect: repeat the TCP connect (and TLS handshake) to
    name the cause (refused, timed out, certificate not trusted...)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if tls_args is not None:
                with tls_args[0].wrap_socket(sock, server_hostname=tls_args[1]):
                    pass
    except ssl.SSLError as exc:
        return f"TLS handshake failed: {exc.reason or exc}"
    except socket.timeout:
        return f"no answer within {timeout:g} s"
    except OSError as exc:
        return exc.strerror or str(exc)
    return "the connection failed (it works now: try again)"


def release(assoc: Association) -> None:
    """Release politely, abort if the peer does not answer the release."""
    if assoc.is_established:
        try:
            assoc.release()
        except Exception:  # at the end, make sure the socket goes away
            log.debug("release failed, aborting", exc_info=True)
            assoc.abort()


@contextmanager
def cancel_watch(assoc: Association, token: CancelToken | None,
                 on_cancel: Callable[[], None] | None = None,
                 grace: float = CANCEL_GRACE) -> Iterator[threading.Event]:
    """While in the block, a cancel runs ``on_cancel`` (e.g. C-CANCEL), then aborts after ``grace``.

    Yields an Event the block sets when the operation has ended on its own, so a late
    cancel does not abort a finished association.
    """
    done = threading.Event()
    if token is None:
        yield done
        return

    def fire() -> None:
        if done.is_set():
            return
        if on_cancel is not None:
            try:
                on_cancel()
            except Exception:
                log.debug("C-CANCEL failed", exc_info=True)

        def later() -> None:
            if not done.wait(grace) and assoc.is_established:
                log.warning("peer did not end the operation %.0f s after C-CANCEL; aborting", grace)
                assoc.abort()

        threading.Thread(target=later, name="cancel-grace", daemon=True).start()

    remove = token.add_callback(fire)
    try:
        yield done
    finally:
        done.set()
        remove()


def check_final(op: str, rsp: Dataset | None, assoc: Association, node: DimseNode,
                waited: float | None = None) -> int:
    """Status of a final response; raise :class:`NetError` when there is none (timeout, abort).

    ``waited`` is how long we had waited since the previous response: at least the DIMSE
    timeout means pynetdicom gave up waiting (and aborted the association itself).
    """
    status = status_of(rsp)
    if status is None:
        # The DUL thread marks an A-ABORT from the peer a moment after the DIMSE layer
        # has given up: wait briefly so the message names the right cause.
        deadline = time.monotonic() + 1.0
        while assoc.is_established and time.monotonic() < deadline:
            time.sleep(0.02)
        if waited is not None and waited >= node.timeouts.dimse * 0.95:
            raise NetError(f"{op}: no response from {node.ae_title} within {node.timeouts.dimse:g} s "
                           "(DIMSE timeout); association aborted", category=FAILURE)
        if assoc.is_aborted or not assoc.is_established:
            raise NetError(f"{op}: association aborted by {node.ae_title} or the network", category=FAILURE)
        raise NetError(f"{op}: no response from {node.ae_title} within {node.timeouts.dimse:g} s "
                       "(DIMSE timeout)", category=FAILURE)
    return status


def accepted_context(assoc: Association, abstract_syntax: str) -> PresentationContext | None:
    """The accepted context for ``abstract_syntax`` (SCU side), if any."""
    for cx in assoc.accepted_contexts:
        if cx.abstract_syntax == abstract_syntax:
            return cx
    return None


def required_context(assoc: Association, node: DimseNode, model: str) -> PresentationContext:
    """The accepted context for the query/retrieve ``model``; :class:`NetError` if the peer
    did not accept it."""
    cx = accepted_context(assoc, model)
    if cx is None:
        raise NetError(f"{node.ae_title} does not accept {getattr(model, 'name', model)}")
    return cx
