"""The DICOM JSON Model (PS3.18 F.2) of a dataset, for ``dump --json`` (no Qt).

pydicom's :meth:`~pydicom.dataset.Dataset.to_json_dict` builds the model; this module
decides what happens to bulk data (PS3.18 F.2.6): values larger than a threshold become a
``BulkDataURI`` pointing into the file, or are left out, never inlined. Values that were
left on disk by ``defer_size`` are never read.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

log = logging.getLogger(__name__)

#: Binary values larger than this (bytes) are bulk data.
BULK_THRESHOLD = 1024
_BULK_VRS = ("OB", "OD", "OF", "OL", "OV", "OW", "UN")


def _bulk_uri(base: str | None, elem: DataElement) -> str:
    tag = f"{int(elem.tag):08X}"
    # PS3.18 F.2.6: the URI is opaque to the receiver; ours names the file and the tag.
    return f"{base}#tag={tag}" if base else f"tag:{tag}"


def to_json_dict(ds: Dataset, *, path: str | os.PathLike[str] | None = None,
                 bulk: str = "uri", threshold: int = BULK_THRESHOLD,
                 include_meta: bool = False) -> dict[str, Any]:
    """The PS3.18 F.2 JSON model of ``ds``.

    Parameters
    ----------
    ds : Dataset
    path : path-like, optional
        The file ``ds`` was read from; bulk data URIs point into it (``file:///...#tag=...``).
    bulk : {"uri", "omit"}
        Large binary values become ``BulkDataURI`` ("uri") or are dropped ("omit").
    threshold : int
        Size in bytes above which a binary value is bulk data.
    include_meta : bool
        Add the File Meta elements (group 0002); they are not part of the data set proper.
    """
    if bulk not in ("uri", "omit"):
        raise ValueError(f"bulk must be 'uri' or 'omit', not {bulk!r}")
    base = Path(path).resolve().as_uri() if path is not None else None
    work = Dataset()
    if include_meta and getattr(ds, "file_meta", None) is not None:
        work.update(ds.file_meta)
    # Copy element references without converting deferred (not loaded) values.
    omitted: list[str] = []
    for tag in ds.keys():
        raw = ds.get_item(tag, keep_deferred=True)
        if isinstance(raw, RawDataElement) and raw.value is None and raw.length:
            # Left on disk by defer_size: bulk data by definition.
            if bulk == "uri":
                work[tag] = DataElement(tag, raw.VR or "UN", None)
                omitted.append(f"{int(tag):08X}")
            continue
        work[tag] = _convertible(ds, tag)

    def handler(elem: DataElement) -> str:
        return _bulk_uri(base, elem)

    result = work.to_json_dict(bulk_data_threshold=threshold, bulk_data_element_handler=handler,
                               suppress_invalid_tags=True)
    for key in omitted:
        result[key] = {"vr": result.get(key, {}).get("vr", "UN"), "BulkDataURI": _bulk_uri(base, work[int(key, 16)])}
    if bulk == "omit":
        for key in [k for k, v in result.items() if "BulkDataURI" in v]:
            del result[key]
        _drop_nested_bulk(result)
    return result


def _convertible(ds: Dataset, tag: BaseTag) -> DataElement:
    """The element at ``tag``, or, when its value cannot be decoded with its VR (an unknown
    VR, a length that is not a multiple of the value size: a damaged file), the raw bytes
    as UN (PS3.5 6.2.2), so one bad element does not stop the dump."""
    try:
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value:
                for sub in list(item.keys()):
                    item[sub] = _convertible(item, sub)
        else:
            value = elem.value
            items = value if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
            if elem.VR not in _BULK_VRS and any(isinstance(v, bytes) for v in items):
                # A text or number VR whose value pydicom left as bytes (damaged header).
                raise ValueError(f"{elem.VR} value not decoded")
        return elem
    except Exception as exc:  # noqa: BLE001 - pydicom raises several types on malformed values
        raw = ds.get_item(tag, keep_deferred=True)  # a deferred value stays on disk
        value = raw.value if isinstance(getattr(raw, "value", None), bytes) else b""
        log.debug("(%04X,%04X): value kept as UN: %s", tag >> 16, tag & 0xFFFF, exc)
        # Made as OB then named UN: pydicom's constructor would swap UN for the dictionary
        # VR of a known tag and convert the bytes with it.
        out = DataElement(tag, "OB", value)
        out.VR = "UN"
        return out


def _drop_nested_bulk(model: dict[str, Any]) -> None:
    for key, attr in list(model.items()):
        if "BulkDataURI" in attr:
            del model[key]
        elif attr.get("vr") == "SQ":
            for item in attr.get("Value", []) or []:
                _drop_nested_bulk(item)


def to_json(ds: Dataset, *, indent: int | None = 2, **kwargs: Any) -> str:
    """:func:`to_json_dict` serialised (UTF-8 text, PS3.18 F.2)."""
    return json.dumps(to_json_dict(ds, **kwargs), indent=indent, ensure_ascii=False)
