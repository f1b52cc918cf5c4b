"""DUL polling pace and idle DIMSE log handlers of a fast-path association (pynetdicom 3.0).

* pynetdicom's DUL thread sleeps ``_run_loop_delay`` (1 ms) whenever it finds nothing to
  do, which adds up to ~1 ms to every PDU; a C-GET receives two messages per instance.
  0.1 ms (:data:`DUL_LOOP_DELAY`) measured 2.5x more instances/s from Orthanc
  (bench/retrieve.py) for a little CPU while the (short-lived) association is open.
* pynetdicom's standard DIMSE logging handlers describe every message received or sent
  and do that work even when the ``pynetdicom`` logger discards it: ~0.3 ms per instance
  of a retrieve. They are unbound unless that logger is enabled for INFO (``-v``/``-d``).
"""

from __future__ import annotations

import logging

from pynetdicom import _handlers, evt
from pynetdicom.association import Association

#: Seconds the DUL thread of a retrieving association sleeps when idle (pynetdicom: 0.001).
DUL_LOOP_DELAY = 0.0001
#: Seconds between polls of a C-MOVE's association, which carries only occasional responses.
CONTROL_LOOP_DELAY = 0.001


def fast_poll(assoc: Association) -> None:
    """Let ``assoc``'s DUL thread poll every :data:`DUL_LOOP_DELAY` s."""
    _set_delay(assoc, DUL_LOOP_DELAY)


def slow_poll(assoc: Association, delay: float = CONTROL_LOOP_DELAY) -> None:
    """Let ``assoc``'s DUL thread poll every ``delay`` s: an association carrying only
    occasional responses (C-MOVE) while another one moves the data; its fast polling would
    take CPU from the thread receiving instances."""
    _set_delay(assoc, delay)


def _set_delay(assoc: Association, delay: float) -> None:
    dul = getattr(assoc, "dul", None)
    if dul is not None and hasattr(dul, "_run_loop_delay"):
        dul._run_loop_delay = delay


def drop_idle_log_handlers(assoc: Association) -> None:
    """Unbind pynetdicom's standard DIMSE logging handlers when they would log nothing."""
    if logging.getLogger(_handlers.__name__).isEnabledFor(logging.INFO):
        return
    for event, handler in ((evt.EVT_DIMSE_RECV, _handlers.standard_dimse_recv_handler),
                           (evt.EVT_DIMSE_SENT, _handlers.standard_dimse_sent_handler)):
        try:
            assoc.unbind(event, handler)
        except (AttributeError, ValueError):  # not bound (LOG_HANDLER_LEVEL "none")
            pass


__all__ = ["CONTROL_LOOP_DELAY", "DUL_LOOP_DELAY", "drop_idle_log_handlers", "fast_poll", "slow_poll"]
