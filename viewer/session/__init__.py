"""The reading session: what is on screen, as plain objects (no Qt).

:class:`ViewState` holds one viewport's view (series and frame, window, zoom, pan,
rotation, flips, inversion, shutter, tool, and the measurements on each image);
:class:`Session` holds the viewports, the layout, the active viewport, the links between
viewports and the 3D cursor. Both announce changes through :class:`Event` callbacks, which
the UI turns into Qt signals; widgets render from these objects and change them only
through their methods.
"""

from viewer.session.events import Event, EventedModel
from viewer.session.frames import FrameRef, ImageKey
from viewer.session.session import Links, Session
from viewer.session.view_state import Measurement, ViewState

__all__ = ["Event", "EventedModel", "FrameRef", "ImageKey", "Links", "Measurement", "Session", "ViewState"]
