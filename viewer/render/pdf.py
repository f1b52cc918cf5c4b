"""PDF pages as RGB arrays, rendered by PDFium (pypdfium2), an optional plugin.

A missing pypdfium2 makes PDF rendering *unavailable* with a message naming the package,
never an ImportError at start-up (as pydicom's pixel decoders do).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from viewer.errors import DecodeError

#: Default rendering resolution (dots per inch): an A4 page is 1240 x 1754 pixels.
DEFAULT_DPI = 150.0


def _pdfium() -> ModuleType:
    try:
        import pypdfium2
    except ImportError:
        raise DecodeError("PDF pages need the pypdfium2 package (pip install pypdfium2)") from None
    module: ModuleType = pypdfium2
    return module


def page_count(data: bytes) -> int:
    """Number of pages of a PDF document."""
    pdfium = _pdfium()
    try:
        doc = pdfium.PdfDocument(data)
    except (pdfium.PdfiumError, ValueError, OSError) as exc:  # a damaged document
        raise DecodeError(f"cannot read the PDF document: {exc}") from None
    try:
        return len(doc)
    finally:
        doc.close()


def render_page(data: bytes, index: int = 0, dpi: float = DEFAULT_DPI) -> np.ndarray:
    """Page ``index`` (0-based) of a PDF as a ``(rows, cols, 3)`` uint8 RGB array on white.

    Raises
    ------
    DecodeError
        pypdfium2 missing, a damaged document, or no such page.
    IndexError
        ``index`` outside the document's pages.
    """
    pdfium = _pdfium()
    try:
        doc = pdfium.PdfDocument(data)
    except (pdfium.PdfiumError, ValueError, OSError) as exc:
        raise DecodeError(f"cannot read the PDF document: {exc}") from None
    try:
        if not 0 <= index < len(doc):
            raise IndexError(f"page {index + 1} out of range: the document has {len(doc)} page(s)")
        page = doc[index]
        try:
            bitmap = page.render(scale=dpi / 72.0, fill_color=(255, 255, 255, 255))
            image = bitmap.to_pil().convert("RGB")
        finally:
            page.close()
    except (pdfium.PdfiumError, ValueError, OSError) as exc:
        raise DecodeError(f"cannot render page {index + 1} of the PDF document: {exc}") from None
    finally:
        doc.close()
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
