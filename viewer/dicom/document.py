"""Encapsulated documents (PDF, CDA, STL ...): the document bytes out of the data set.

PS3.3 C.24.2 (Encapsulated Document module): the document is the value of Encapsulated
Document (0042,0011), padded to an even length; Encapsulated Document Length (0042,0015),
when present, gives its true length. MIME Type of Encapsulated Document (0042,0012) says
what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset

from viewer.errors import ReadError

ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
ENCAPSULATED_CDA = "1.2.840.10008.5.1.4.1.1.104.2"


@dataclass(frozen=True)
class Document:
    """An encapsulated document and what it is."""

    data: bytes
    mime_type: str
    title: str = ""

    @property
    def is_pdf(self) -> bool:
        return self.mime_type.lower() == "application/pdf" or self.data[:5] == b"%PDF-"

    @property
    def suffix(self) -> str:
        """A file name suffix for handing the document to the system's viewer."""
        return {"application/pdf": ".pdf", "text/xml": ".xml", "application/xml": ".xml",
                "model/stl": ".stl"}.get(self.mime_type.lower(), ".bin")


def is_encapsulated_document(ds: Dataset) -> bool:
    """True when the data set carries an Encapsulated Document (0042,0011)."""
    return "EncapsulatedDocument" in ds


def encapsulated_document(ds: Dataset) -> Document:
    """The document of an Encapsulated PDF/CDA/... instance.

    Raises
    ------
    ReadError
        When the data set has no Encapsulated Document.
    """
    if "EncapsulatedDocument" not in ds:
        raise ReadError("no Encapsulated Document (0042,0011) in this object")
    data = bytes(ds.EncapsulatedDocument or b"")
    length = ds.get("EncapsulatedDocumentLength")
    mime = str(ds.get("MIMETypeOfEncapsulatedDocument", "") or "").strip()
    if isinstance(length, int) and 0 < length <= len(data):
        data = data[:length]
    elif data.endswith(b"\x00") and (mime.lower() == "application/pdf" or data[:5] == b"%PDF-"):
        data = data[:-1]  # the pad byte to an even length (PS3.5 7.1.1); PDFs end in text
    return Document(data, mime or ("application/pdf" if data[:5] == b"%PDF-" else ""),
                    str(ds.get("DocumentTitle", "") or ""))
