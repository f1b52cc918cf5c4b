"""A LUT Sequence item's entries (PS3.3 C.11.1.1): the one reader of LUT Descriptor and LUT Data.

Used for Modality, VOI and Presentation LUT Sequences alike, by the image pipeline
(``viewer.render.dsparams``) and by presentation states (``viewer.dicom.pstate``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset

from viewer.errors import DecodeError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LutEntries:
    """LUT Descriptor values (entries counted in ``table``) and the entries."""

    first_mapped: int
    bits: int
    table: np.ndarray = field(repr=False)  # uint16

    @property
    def data(self) -> bytes:
        """The entries as little-endian uint16 bytes."""
        return self.table.astype("<u2").tobytes()


def read_lut_entries(item: Dataset, signed_input: bool = False) -> LutEntries:
    """The entries of a LUT Sequence item.

    The LUT Descriptor is (entries, first mapped value, bits); 0 entries means 65536 and the
    first mapped value is signed when the input is signed (US or SS VR). In OW, 8-bit
    entries may be packed two per word (C.11.1.1.1). Bits outside 8..16 are taken from the
    largest entry.

    Raises
    ------
    DecodeError
        The descriptor is missing or malformed, or the data missing or unreadable.
    """
    try:
        n, first, bits = (int(v) for v in item.LUTDescriptor)
    except (AttributeError, TypeError, ValueError):
        raise DecodeError("LUT Descriptor (0028,3002) missing or malformed") from None
    n = n or 65536
    if signed_input and first >= 32768:
        first -= 65536
    try:
        raw = item.get("LUTData", None)
    except Exception as exc:  # noqa: BLE001 - e.g. a damaged length field on a deferred value
        raise DecodeError(f"LUT Data (0028,3006) unreadable: {type(exc).__name__}") from None
    if raw is None:
        raise DecodeError("LUT Data (0028,3006) missing")
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) == n and bits == 8:
            table = np.frombuffer(bytes(raw), np.uint8).astype(np.uint16)
        else:
            table = np.frombuffer(bytes(raw[: 2 * n]), "<u2").astype(np.uint16)
    else:
        values = [raw] if isinstance(raw, int) else list(raw)
        table = (np.asarray(values, dtype=np.int64) & 0xFFFF).astype(np.uint16)
    if len(table) < n:
        log.warning("LUT Data has %d entries, descriptor says %d", len(table), n)
    if bits not in range(8, 17):
        bits = max(1, int(table.max()).bit_length()) if len(table) else 16
    return LutEntries(first, bits, table)
