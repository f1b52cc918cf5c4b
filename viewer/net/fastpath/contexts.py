"""Our storage SCP's supported presentation contexts, copied cheaply for each association.

pynetdicom 3.0 deep-copies the server's supported contexts for every association it
accepts: ~5 ms for our 171 x 13, paid at the start of every C-MOVE (a small series'
whole retrieve takes less). A copy of each context's attributes is all the negotiation
needs (PS3.8 9.3.2.2; pynetdicom 3.0 builds new contexts for its answer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynetdicom.presentation import PresentationContext

if TYPE_CHECKING:
    from pynetdicom.transport import ThreadedAssociationServer


class _CheaplyCopiedContext(PresentationContext):
    """A supported presentation context whose deep copy copies its attributes and its list
    of transfer syntaxes (UIDs are immutable strings), not every object below them."""

    def __deepcopy__(self, memo: dict[int, Any]) -> "_CheaplyCopiedContext":
        new = PresentationContext.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._transfer_syntax = list(self._transfer_syntax)
        return new


def copy_cheaply(server: ThreadedAssociationServer) -> None:
    """Make the supported contexts of the ``AssociationServer`` copy cheaply."""
    for cx in getattr(server, "contexts", ()):
        if type(cx) is PresentationContext:
            cx.__class__ = _CheaplyCopiedContext


__all__ = ["copy_cheaply"]
