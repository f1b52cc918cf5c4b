"""The one cancellation flag of the project, shared by the GUI and the work it started.

Long operations (scan, export, send, query, retrieve, print) take a :class:`CancelToken`
and check it between steps: ``token.raise_if_cancelled()`` where stopping means raising
:class:`viewer.errors.Cancelled`, ``token.cancelled`` where the caller ends quietly. Network
operations also register callbacks (:meth:`CancelToken.add_callback`) that run at once on
cancel, e.g. to send C-CANCEL (PS3.7 9.3.2.3) while the worker is blocked in a read.

No Qt here: the GUI's worker (:mod:`viewer.ui.workers`) owns one token per job and the
core functions see only this type.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from viewer.errors import Cancelled

log = logging.getLogger(__name__)


class CancelToken:
    """A thread-safe cancel flag with callbacks.

    ``cancel()`` may be called from any thread, any number of times; callbacks run once, in
    the cancelling thread, in the order they were added.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"<CancelToken {'cancelled' if self.cancelled else 'active'}>"

    def cancel(self) -> None:
        """Set the flag and run the registered callbacks (once)."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks)
            self._callbacks.clear()
        for cb in callbacks:
            try:
                cb()
            except Exception:  # a failing callback must not hide the cancel
                log.debug("cancel callback failed", exc_info=True)

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` seconds passed; True when cancelled."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self, message: str = "cancelled") -> None:
        """Raise :class:`~viewer.errors.Cancelled` (with ``message``) if the flag is set."""
        if self._event.is_set():
            raise Cancelled(message)

    def add_callback(self, cb: Callable[[], None]) -> Callable[[], None]:
        """Run ``cb`` on cancel (at once if already cancelled); returns a remover."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(cb)

                def remove() -> None:
                    with self._lock:
                        if cb in self._callbacks:
                            self._callbacks.remove(cb)

                return remove
        cb()
        return lambda: None

    def child(self) -> tuple[CancelToken, Callable[[], None]]:
        """A new token cancelled with this one (but not the other way round).

        Returns the child and a remover that unlinks it, for internal stops that must not
        look like the user's cancel (e.g. one failed association stopping its siblings).
        """
        child = CancelToken()
        return child, self.add_callback(child.cancel)


def is_cancelled(token: CancelToken | None) -> bool:
    """``token.cancelled``, False for no token."""
    return token is not None and token.cancelled
