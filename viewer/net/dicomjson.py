"""Output of query results in the DICOM JSON model (PS3.18 F.2), shared by find, worklist
and the DICOMweb commands: one JSON object per match, written as one JSON array that is
streamed as matches arrive (the shape QIDO-RS returns, PS3.18 10.6.3.3.1)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from pydicom.dataset import Dataset


def dataset_to_json(ds: Dataset) -> dict[str, Any]:
    """``ds`` as a DICOM JSON model object (tags as ``ggggeeee`` keys, ``vr``, ``Value``);
    binary values are inline base64 (PS3.18 F.2.7, ``InlineBinary``)."""
    return ds.to_json_dict()


class JsonArrayWriter:
    """Write objects to ``stream`` as one JSON array, flushing after each object.

    Use as a context manager; an empty result gives ``[]``.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.count = 0

    def __enter__(self) -> "JsonArrayWriter":
        self.stream.write("[")
        return self

    def write(self, obj: dict[str, Any] | Dataset) -> None:
        data = dataset_to_json(obj) if isinstance(obj, Dataset) else obj
        self.stream.write(("," if self.count else "") + "\n" + json.dumps(data, ensure_ascii=False))
        self.stream.flush()
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        self.stream.write("\n]\n" if self.count else "]\n")
        self.stream.flush()
