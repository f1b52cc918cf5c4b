"""The pynetdicom fast path: retrieval at DCMTK's pace by patching pynetdicom 3.0 from inside.

Why: pynetdicom spends far more interpreter time per received PDU and per DIMSE message
than the network needs; retrieving a CT series by C-GET or C-MOVE took 2-4x as long as
DCMTK's getscu/movescu (``bench/retrieve.py``). The modules here replace parts of
pynetdicom's DUL and DIMSE layers, on one association at a time, with code that does the
same for the common case and hands everything else back to pynetdicom:

* :mod:`.dul`: P-DATA-TF PDUs read in bulk and dispatched without PDU objects or FSM events;
  C-STORE data sets for our store written to their file as the fragments arrive
  (:class:`viewer.net.incoming.IncomingInstance`) and answered from the reading thread;
* :mod:`.command`: command sets of C-STORE requests and C-GET/C-MOVE responses decoded without pydicom;
* :mod:`.rsp`: C-STORE responses encoded with ``struct``;
* :mod:`.serve_inline`: C-STORE requests served on the DUL thread instead of the reactor's;
* :mod:`.responses`: C-GET/C-MOVE pending responses followed without a Dataset each;
* :mod:`.contexts`: the storage SCP's supported contexts copied cheaply per association;
* :mod:`.tuning`: the DUL polls every 0.1 ms, idle DIMSE log handlers are unbound.

Entry points (nothing else in ``viewer`` touches pynetdicom's private names):

* :func:`install` from an ``EVT_CONN_OPEN`` handler of an association that retrieves
  instances: a C-GET, a C-MOVE, and every association our storage SCP accepts. Echo,
  C-FIND, worklist, print and C-STORE SCU associations run as pynetdicom ships them.
* :func:`install_server` on our storage SCP's server, :func:`wrap_responses` on the
  generator ``send_c_get``/``send_c_move`` return, :func:`quiet` on a C-MOVE's association.

Correctness, not speed: :mod:`.response_guard` (:func:`.response_guard.guard`) keeps DIMSE
responses for the request that waits for them (pynetdicom 3.0's reactor race); it is
installed on every association we request, echo and print included, whatever the switch
says, and touches ``DIMSEServiceProvider.get_msg`` (replaced per instance) and ``msg_queue``
(read under its mutex).

Bounds, not speed: :mod:`.door` (:class:`.door.Door`, bound first as an ``EVT_CONN_OPEN``
handler by our storage SCP and print SCP, whatever the switch says) refuses a PDU longer than
the maximum we announced before reading it (A-ABORT), bounds the time to a complete
A-ASSOCIATE-RQ and the connections per host, and answers a C-STORE request pynetdicom finds
invalid; it shadows ``AssociationSocket.recv`` per instance and wraps
``Association._serve_request`` (its docstring lists what else it reads).

Switch and version: :func:`enabled` is False when the environment variable
``VIEWER_FASTPATH`` is ``0`` (:data:`viewer.config.FASTPATH_ENV`), when the ``fast_path``
setting is off (:class:`viewer.config.LocalAE`, applied by :func:`configure`), or when the
installed pynetdicom is outside :data:`PYNETDICOM_REQUIREMENT` (the range ``pyproject.toml``
pins); then nothing is installed and one WARNING is logged per process.

Private pynetdicom names touched (the list to check on a pynetdicom upgrade):

* module ``pynetdicom._handlers``: ``standard_pdu_recv_handler``, ``standard_pdu_sent_handler``,
  ``standard_dimse_recv_handler``, ``standard_dimse_sent_handler`` (identity checks, unbinding);
* ``pynetdicom._config.STORE_RECV_CHUNKED_DATASET`` (read);
* ``DULServiceProvider``: ``_read_pdu_data`` (replaced per instance), ``_run_loop_delay``
  (set), ``_idle_timer`` (restarted), ``_kill_thread``, ``event_queue``, ``to_provider_queue``,
  ``_process_recv_primitive``, ``_decode_pdu``, ``_recv_pdu``, ``state_machine.current_state``
  (FSM state name ``"Sta6"``) and ``state_machine.do_action``; ``socket.send``;
* ``AssociationSocket``: its class is swapped for a subclass; ``_is_connected``, ``ready``, ``recv``;
* ``Association``: ``_handlers`` (read), ``_sent_release``, ``_accepted_cx``, ``_serve_request``,
  ``_c_store_scp`` (replaced per instance on a C-GET), ``_handle_no_response``,
  ``_reactor_checkpoint``, ``_wrap_get_move_responses`` (its code object, compared);
* ``DIMSEServiceProvider``: ``msg_queue`` (replaced), ``send_msg`` (replaced per instance),
  ``message`` (its ``data_set``, ``_data_set_file``; :class:`.command.FastMessage` stands in
  for ``DIMSEMessage``: ``decode_msg``, ``message_to_primitive``, ``encoded_command_set``,
  ``_data_set_path``), ``receive_primitive``, ``get_msg``, ``maximum_pdu_size``;
* DIMSE primitives: ``_context_id``, ``_dataset_path``, ``_dataset_file``;
* ``PresentationContext._transfer_syntax`` and the server's ``contexts`` (copied).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Iterator

from pydicom.dataset import Dataset
from pynetdicom.association import Association

from viewer.net.fastpath._support import (PYNETDICOM_BELOW, PYNETDICOM_MIN, PYNETDICOM_REQUIREMENT, configure,
                                          enabled, version_supported)

if TYPE_CHECKING:
    from pynetdicom.transport import ThreadedAssociationServer

log = logging.getLogger(__name__)


def install(assoc: Association) -> bool:
    """Install the fast path on ``assoc``, which retrieves instances; returns whether it did.

    Call it from an ``EVT_CONN_OPEN`` handler (before the association is negotiated). On an
    association our storage SCP accepted, and on a C-GET whose ``EVT_C_STORE`` handler is
    our store's (:func:`viewer.net.storage_scp.handle_store`), C-STORE requests are also
    served on the DUL thread (:mod:`.serve_inline`); that handler must not wait on the
    association.
    """
    if not enabled():
        return False
    from viewer.net.fastpath import dul, rsp, serve_inline, stream, tuning

    tuning.fast_poll(assoc)
    installed = dul.install(assoc)
    rsp.install(assoc)
    if assoc.is_acceptor or stream.sink_for(assoc) is not None:
        serve_inline.install(assoc)
    tuning.drop_idle_log_handlers(assoc)
    return installed


def install_server(server: ThreadedAssociationServer) -> None:
    """On our storage SCP's ``AssociationServer``: its supported contexts are copied
    cheaply for each association it accepts (:mod:`.contexts`)."""
    if enabled():
        from viewer.net.fastpath import contexts

        contexts.copy_cheaply(server)


def quiet(assoc: Association) -> None:
    """A C-MOVE's association, which carries only occasional responses while another one
    moves the data: its DUL polls at a slower pace (:func:`.tuning.slow_poll`)."""
    if enabled():
        from viewer.net.fastpath import tuning

        tuning.slow_poll(assoc)


def wrap_responses(assoc: Association, shipped: Iterator[tuple[Dataset, Dataset | None]],
                   transfer_syntax: Any) -> Iterator[tuple[Any, Dataset | None]]:
    """The responses of the C-GET/C-MOVE just sent, followed without a Dataset per pending
    response (:mod:`.responses`), or ``shipped`` as is when the fast path is off."""
    if not enabled():
        return shipped
    from viewer.net.fastpath import responses

    return responses.wrap(assoc, shipped, transfer_syntax)


__all__ = ["PYNETDICOM_BELOW", "PYNETDICOM_MIN", "PYNETDICOM_REQUIREMENT", "configure", "enabled", "install",
           "install_server", "quiet", "version_supported", "wrap_responses"]
