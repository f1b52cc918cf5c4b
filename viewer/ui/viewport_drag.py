"""Drag and drop with a viewport: a series dropped in, the image dragged out as it is shown.

A series travels as its Series Instance UID (:data:`SERIES_MIME`: from the study browser
into a viewport or a film box). An image dragged out of a viewport (Alt+left-drag)
travels as the JSON of the print image reference its view makes (:data:`VIEW_MIME`:
window, inversion, zoom/pan, turns, flips, presentation state;
:func:`viewer.tasks.film_from_view.image_ref_from_view`); the film composer takes it.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, QObject, Qt
from PySide6.QtGui import QDrag

from viewer.session import ViewState

#: Drag-and-drop payload: a Series Instance UID from the browser.
SERIES_MIME = "application/x-dicom-series-uid"
#: MIME type of an image dragged out of a viewport as it is shown (JSON of a print ImageRef)
VIEW_MIME = "application/x-viewer-image-view"


def view_mime_data(state: ViewState, view_size: tuple[float, float]) -> QMimeData | None:
    """The image of ``state``, as shown in a view of ``view_size`` (width, height), for a drag
    (None: no image)."""
    if state.current is None:
        return None
    import json

    from viewer.tasks.film_from_view import image_ref_from_view
    from viewer.tasks.print_queue import ref_to_dict

    ref = image_ref_from_view(state, view_size)
    data = QMimeData()
    data.setData(VIEW_MIME, QByteArray(json.dumps(ref_to_dict(ref)).encode()))
    return data


def drag_out(source: QObject, data: QMimeData) -> None:
    """Start dragging ``data`` out of ``source`` (a copy; returns when it is dropped)."""
    drag = QDrag(source)
    drag.setMimeData(data)
    drag.exec(Qt.DropAction.CopyAction)


def dropped_series(data: QMimeData) -> str | None:
    """The Series Instance UID a drop carries, or None when it carries none."""
    if not data.hasFormat(SERIES_MIME):
        return None
    return bytes(data.data(SERIES_MIME).data()).decode("ascii", "replace")
