"""Where the fast P-DATA reader (:mod:`.dul`) may write C-STORE data sets as they arrive."""

from __future__ import annotations

from pynetdicom import evt
from pynetdicom.association import Association

from viewer.net.incoming import Sink, peer_title
from viewer.dicom.local_store import LocalStore


def sink_for(assoc: Association) -> Sink | None:
    """The :class:`Sink` if the ``EVT_C_STORE`` handler bound to ``assoc`` is our
    ``handle_store`` (marked ``streams_into_store``), else None (pynetdicom runs it)."""
    bound = assoc._handlers.get(evt.EVT_C_STORE)
    if not isinstance(bound, tuple) or not getattr(bound[0], "streams_into_store", False):
        return None
    args = list(bound[1] or ())
    if not args or not isinstance(args[0], LocalStore):
        return None
    return Sink(args[0], args[1] if len(args) > 1 else None, peer_title(assoc))


__all__ = ["sink_for"]
