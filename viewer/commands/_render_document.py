"""``render PDF.dcm -o page.png [--frame N]``: one page of an Encapsulated PDF as a PNG."""

from __future__ import annotations

import argparse
import logging

from pydicom.dataset import Dataset

from viewer.errors import UsageError

log = logging.getLogger(__name__)


def run_document(args: argparse.Namespace, ds: Dataset) -> int:
    """Render page ``--frame`` of the document in ``ds``; returns 0."""
    from viewer.commands.render import write_png
    from viewer.dicom.document import encapsulated_document
    from viewer.render.pdf import page_count, render_page

    doc = encapsulated_document(ds)
    if not doc.is_pdf:
        raise UsageError(f"{args.input} holds a {doc.mime_type or 'non-PDF'} document, not pages to render; "
                         "use `report` for text documents")
    pages = page_count(doc.data)
    if not 1 <= args.frame <= pages:
        raise UsageError(f"--frame {args.frame} out of range: the PDF has {pages} page(s)")
    img = render_page(doc.data, args.frame - 1, dpi=args.dpi)
    write_png(img, args.output)
    log.info("wrote %s (PDF page %d of %d, %dx%d at %g dpi)", args.output, args.frame, pages,
             img.shape[1], img.shape[0], args.dpi)
    return 0
