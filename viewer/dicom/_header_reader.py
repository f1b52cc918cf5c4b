"""A small, fast reader for the header attributes the study model needs.

pydicom builds a full data set with lazily converted elements; for listing thousands
of files (or DICOMDIR records) most of that work is wasted. This module walks the
encoded elements with :func:`struct.unpack_from`, keeps only the tags in
:data:`WANTED` and skips the rest by their length (PS3.5 7.1). It handles Explicit and
Implicit VR Little Endian, the only encodings of a DICOMDIR (PS3.10 8.2) and those of
nearly every file on a CD. Anything else (big endian, deflate, raw data sets without
File Meta, undecodable lengths, enhanced functional groups) raises :class:`Unsupported`
and the caller uses pydicom instead, so results never depend on which path ran; the
tests compare both over the whole corpus.
"""

from __future__ import annotations

import struct
from typing import Any, Callable

#: tag -> (keyword, VR) of every attribute the model reads (PS3.6).
WANTED: dict[int, tuple[str, str]] = {
    0x00080005: ("SpecificCharacterSet", "CS"),
    0x00080008: ("ImageType", "CS"),
    0x00080016: ("SOPClassUID", "UI"),
    0x00080018: ("SOPInstanceUID", "UI"),
    0x00080020: ("StudyDate", "DA"),
    0x00080030: ("StudyTime", "TM"),
    0x00080032: ("AcquisitionTime", "TM"),
    0x00080033: ("ContentTime", "TM"),
    0x00080050: ("AccessionNumber", "SH"),
    0x00080060: ("Modality", "CS"),
    0x00081030: ("StudyDescription", "LO"),
    0x0008103E: ("SeriesDescription", "LO"),
    0x00100010: ("PatientName", "PN"),
    0x00100020: ("PatientID", "LO"),
    0x00100021: ("IssuerOfPatientID", "LO"),
    0x00100030: ("PatientBirthDate", "DA"),
    0x00100040: ("PatientSex", "CS"),
    0x00180015: ("BodyPartExamined", "CS"),
    0x00180050: ("SliceThickness", "DS"),
    0x00180086: ("EchoNumbers", "IS"),
    0x00181114: ("EstimatedRadiographicMagnificationFactor", "DS"),
    0x00181164: ("ImagerPixelSpacing", "DS"),
    0x00182010: ("NominalScannedPixelSpacing", "DS"),
    0x00185100: ("PatientPosition", "CS"),
    0x00185101: ("ViewPosition", "CS"),
    0x0020000D: ("StudyInstanceUID", "UI"),
    0x0020000E: ("SeriesInstanceUID", "UI"),
    0x00200010: ("StudyID", "SH"),
    0x00200011: ("SeriesNumber", "IS"),
    0x00200012: ("AcquisitionNumber", "IS"),
    0x00200013: ("InstanceNumber", "IS"),
    0x00200032: ("ImagePositionPatient", "DS"),
    0x00200037: ("ImageOrientationPatient", "DS"),
    0x00200052: ("FrameOfReferenceUID", "UI"),
    0x00200060: ("Laterality", "CS"),
    0x00200062: ("ImageLaterality", "CS"),
    0x00200100: ("TemporalPositionIdentifier", "IS"),
    0x00201041: ("SliceLocation", "DS"),
    0x00280008: ("NumberOfFrames", "IS"),
    0x00280010: ("Rows", "US"),
    0x00280011: ("Columns", "US"),
    0x00280030: ("PixelSpacing", "DS"),
    0x00280034: ("PixelAspectRatio", "IS"),
}
#: Directory record attributes (PS3.3 F.3.2.2).
RECORD: dict[int, tuple[str, str]] = {
    0x00041400: ("OffsetOfTheNextDirectoryRecord", "UL"),
    0x00041410: ("RecordInUseFlag", "US"),
    0x00041420: ("OffsetOfReferencedLowerLevelDirectoryEntity", "UL"),
    0x00041430: ("DirectoryRecordType", "CS"),
    0x00041500: ("ReferencedFileID", "CS"),
    0x00041510: ("ReferencedSOPClassUIDInFile", "UI"),
    0x00041511: ("ReferencedSOPInstanceUIDInFile", "UI"),
    0x00041512: ("ReferencedTransferSyntaxUIDInFile", "UI"),
}
RECORD_WANTED = {**WANTED, **RECORD}
#: What a study library stores of an instance (patient, study, series and instance
#: identity and the attributes it lists and searches by); no geometry, spacing or
#: acquisition details, which only the viewer needs.
INDEX_KEYWORDS = frozenset({
    "SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "Modality",
    "StudyDescription", "SeriesDescription", "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate",
    "PatientSex", "BodyPartExamined", "StudyInstanceUID", "SeriesInstanceUID", "StudyID", "SeriesNumber",
    "InstanceNumber", "FrameOfReferenceUID", "NumberOfFrames", "Rows", "Columns"})
#: :data:`WANTED` cut down to :data:`INDEX_KEYWORDS` (``parse_file_header(..., wanted=INDEX_WANTED)``).
INDEX_WANTED = {tag: spec for tag, spec in WANTED.items() if spec[0] in INDEX_KEYWORDS}

_EXPLICIT_LE = "1.2.840.10008.1.2.1"
_IMPLICIT_LE = "1.2.840.10008.1.2"
#: VRs with a 2-byte reserved field and a 4-byte length in Explicit VR (PS3.5 7.1.2).
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
#: Deepest nesting of undefined-length sequences walked (deeper: :class:`Unsupported`).
MAX_DEPTH = 16
#: The first tag after every one in :data:`WANTED`.
_AFTER_WANTED = 0x00280035
#: Stop before these: Pixel Data, and the enhanced functional groups (pydicom handles those).
PIXEL_DATA = 0x7FE00010
FUNCTIONAL_GROUPS = 0x52009229

_u16 = struct.Struct("<H").unpack_from
_u32 = struct.Struct("<I").unpack_from
_tag_vr_len = struct.Struct("<HH2sH").unpack_from
_tag_len = struct.Struct("<HHI").unpack_from


class Unsupported(Exception):
    """The fast reader cannot read this buffer; use pydicom."""


class NeedMore(Unsupported):
    """An element runs past the end of the buffer read so far."""


def _skip_undefined(buf: bytes, pos: int, implicit: bool, depth: int = 0) -> int:
    """Position after an undefined-length sequence value starting at ``pos`` (PS3.5 7.5.2).

    The items of a UN value of undefined length are Implicit VR Little Endian (PS3.5 6.2.2):
    callers pass ``implicit`` true for them. Nesting deeper than :data:`MAX_DEPTH` is refused.
    """
    if depth > MAX_DEPTH:
        raise Unsupported("sequences nested too deep")
    end = len(buf)
    while True:
        if pos + 8 > end:
            raise NeedMore("sequence runs past the buffer")
        group, elem, length = _tag_len(buf, pos)
        tag = group << 16 | elem
        pos += 8
        if tag == _SEQ_END:
            return pos
        if tag != _ITEM:
            raise Unsupported(f"unexpected tag {tag:08X} in a sequence")
        if length != _UNDEFINED:
            pos += length
            continue
        while True:  # an undefined-length item: its elements until the item delimiter
            if pos + 8 > end:
                raise NeedMore("item runs past the buffer")
            group, elem = _u16(buf, pos)[0], _u16(buf, pos + 2)[0]
            if (group << 16 | elem) == _ITEM_END:
                pos += 8
                break
            pos, _, vr, value_len, undefined = _header(buf, pos, implicit)
            pos = _skip_undefined(buf, pos, implicit or vr == b"UN", depth + 1) if undefined else pos + value_len


def _header(buf: bytes, pos: int, implicit: bool) -> tuple[int, int, bytes, int, bool]:
    """(value position, tag, VR (b"" when implicit), length, undefined length)."""
    if pos + 8 > len(buf):
        raise NeedMore("element header past the buffer")
    if implicit:
        group, elem, length = _tag_len(buf, pos)
        return pos + 8, group << 16 | elem, b"", length, length == _UNDEFINED
    group, elem, vr, length = _tag_vr_len(buf, pos)
    if vr in _LONG_VRS:
        if pos + 12 > len(buf):
            raise NeedMore("element header past the buffer")
        length = _u32(buf, pos + 8)[0]
        return pos + 12, group << 16 | elem, vr, length, length == _UNDEFINED
    if not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
        raise Unsupported(f"bad VR {vr!r}")
    return pos + 8, group << 16 | elem, vr, length, False


def element_end(buf: bytes, pos: int, implicit: bool) -> int:
    """Position after the whole element at ``pos`` (its value, or its undefined-length
    sequence to the delimiter); :class:`NeedMore` if it runs past the buffer."""
    vpos, _, vr, length, undefined = _header(buf, pos, implicit)
    end = _skip_undefined(buf, vpos, implicit or vr == b"UN") if undefined else vpos + length
    if end > len(buf):
        raise NeedMore("value past the buffer")
    return end


def read_elements(buf: bytes, pos: int, end: int, implicit: bool, wanted: dict[int, tuple[str, str]],
                  stop: int = PIXEL_DATA) -> tuple[dict[int, bytes], int, int]:
    """Collect raw values of ``wanted`` tags between ``pos`` and ``end``.

    Returns ``(values, position reached, tag that stopped the walk or 0)``. Stops at the
    first tag >= ``stop``, or at an item/sequence delimiter (returned as the stop tag).
    """
    found: dict[int, bytes] = {}
    while pos < end:
        if pos + 4 > len(buf):
            raise NeedMore("tag past the buffer")
        group, elem = _u16(buf, pos)[0], _u16(buf, pos + 2)[0]
        tag = group << 16 | elem
        if tag >= stop or tag in (_ITEM_END, _SEQ_END):
            return found, pos, tag
        vpos, tag, vr, length, undefined = _header(buf, pos, implicit)
        if undefined:
            if tag in wanted:
                raise Unsupported(f"undefined length for {tag:08X}")
            pos = _skip_undefined(buf, vpos, implicit or vr == b"UN")
            continue
        pos = vpos + length
        if pos > len(buf):
            if tag in wanted:
                raise NeedMore("value past the buffer")
            if pos > end:
                raise NeedMore("value past the buffer")
            continue
        if tag in wanted:
            found[tag] = buf[vpos:pos]
    return found, pos, 0


def read_explicit(buf: bytes, pos: int, end: int, wanted: dict[int, Any],
                  stop: int = PIXEL_DATA) -> tuple[dict[int, bytes], int, int]:
    """:func:`read_elements` for Explicit VR Little Endian, unrolled for speed.

    Item and sequence delimiters have tags above any ``stop`` used here, so they end
    the walk like ``stop`` does.
    """
    found: dict[int, bytes] = {}
    n = len(buf)
    unpack = _tag_vr_len
    long_vrs = _LONG_VRS
    while pos < end:
        if pos + 8 > n:
            raise NeedMore("element header past the buffer")
        group, elem, vr, length = unpack(buf, pos)
        tag = group << 16 | elem
        if tag >= stop:
            return found, pos, tag
        if vr in long_vrs:
            if pos + 12 > n:
                raise NeedMore("element header past the buffer")
            length = _u32(buf, pos + 8)[0]
            vpos = pos + 12
            if length == _UNDEFINED:
                if tag in wanted:
                    raise Unsupported(f"undefined length for {tag:08X}")
                pos = _skip_undefined(buf, vpos, vr == b"UN")
                continue
        else:
            vpos = pos + 8
        pos = vpos + length
        if tag in wanted:
            if pos > n:
                raise NeedMore("value past the buffer")
            found[tag] = buf[vpos:pos]
    if pos > n:
        raise NeedMore("value past the buffer")
    return found, pos, 0


# ------------------------------------------------------------------ value decoding


#: Specific Character Sets of one code page without code extensions (PS3.3 C.12.1.1.2,
#: Table C.12-2) and the Python codec pydicom decodes them with (``pydicom.charset``).
_SINGLE_CODECS = {
    b"ISO_IR 100": "latin_1", b"ISO_IR 101": "iso8859_2", b"ISO_IR 109": "iso8859_3", b"ISO_IR 110": "iso8859_4",
    b"ISO_IR 144": "iso8859_5", b"ISO_IR 127": "iso8859_6", b"ISO_IR 126": "iso8859_7", b"ISO_IR 138": "iso8859_8",
    b"ISO_IR 148": "iso8859_9", b"ISO_IR 203": "iso8859_15", b"ISO_IR 192": "utf_8",
}


class _Text:
    """Text values in the data set's Specific Character Set (PS3.5 6.1).

    Plain ASCII without escape sequences is decoded by the VR's decoder; a value in one
    of :data:`_SINGLE_CODECS` (Latin, Cyrillic, Greek, ... or UTF-8, no escapes, no PN
    component groups) is decoded here with the codec pydicom uses, then shaped as the
    ASCII decoder shapes it; anything else (ISO 2022 escapes, PN component groups,
    multi-byte code pages whose bytes can look like a backslash) is converted by
    pydicom, so the result is exactly what pydicom would give.
    """

    def __init__(self, charset: bytes | None) -> None:
        self.charset = charset
        self._encodings: list[str] | None = None
        self._codec = _SINGLE_CODECS.get((charset or b"").strip(b" \x00"))

    def pydicom_value(self, raw: bytes, tag: int, vr: str) -> Any:
        codec = self._codec
        if codec is not None and vr in _SHAPES and b"\x1b" not in raw and not (vr == "PN" and b"=" in raw):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                pass  # pydicom says how it reads a value that is not in its character set
            else:
                return _SHAPES[vr](text)
        from pydicom.charset import convert_encodings
        from pydicom.dataelem import RawDataElement, convert_raw_data_element
        from pydicom.tag import BaseTag

        if self._encodings is None:
            names = (self.charset or b"").decode("ascii", "replace").strip(" \x00").split("\\")
            self._encodings = convert_encodings([n.strip() for n in names if n.strip()] or ["ISO_IR 6"])
        elem = convert_raw_data_element(RawDataElement(BaseTag(tag), vr, len(raw), raw, 0, False, True),
                                        encoding=self._encodings)
        return elem.value


def _us(raw: bytes) -> int | None:
    return _u16(raw, 0)[0] if len(raw) >= 2 else None


def _ul(raw: bytes) -> int | None:
    return _u32(raw, 0)[0] if len(raw) >= 4 else None


def _ui(raw: bytes) -> str:
    return raw.rstrip(b"\x00 ").decode("ascii", "replace").strip()


def _numbers(raw: bytes, integer: bool) -> Any:
    if b"\\" not in raw:
        text = raw.rstrip(b"\x00")
        try:
            return int(text) if integer else float(text)
        except ValueError:
            if not text.strip():
                return None
            try:
                value = float(text)  # IS written as "12.0"
            except ValueError:
                raise Unsupported("bad DS/IS value") from None
            return int(value) if integer else value
    parts = [p.strip() for p in raw.decode("ascii", "replace").strip(" \x00").split("\\")]
    try:
        nums: list[Any] = [int(float(p)) if integer else float(p) for p in parts if p]
    except ValueError:
        raise Unsupported("bad DS/IS value") from None
    return (nums[0] if len(nums) == 1 else nums) if nums else None


def _ds(raw: bytes) -> Any:
    return _numbers(raw, False)


def _is(raw: bytes) -> Any:
    return _numbers(raw, True)


#: Decoded UI and ASCII CS values by their bytes: transfer syntaxes, SOP classes, Image
#: Type and record types repeat in every record of a DICOMDIR. Values are immutable.
_MEMO_UI: dict[bytes, str] = {}
_MEMO_CS: dict[bytes, Any] = {}
_MEMO_LIMIT = 4096
#: Returned by a text decoder for values it leaves to pydicom (non-ASCII, ISO 2022, PN groups).
_SLOW = object()


def _remember(memo: dict[bytes, Any], raw: bytes, value: Any) -> Any:
    if len(memo) > _MEMO_LIMIT:
        memo.clear()
    memo[raw] = value
    return value


def _ui_memo(raw: bytes) -> str:
    value = _MEMO_UI.get(raw)
    return value if value is not None else _remember(_MEMO_UI, raw, _ui(raw))


def _cs(raw: bytes) -> Any:
    value = _MEMO_CS.get(raw)
    if value is not None:
        return value
    if not raw.isascii() or b"\x1b" in raw:
        return _SLOW
    return _remember(_MEMO_CS, raw, _shape_cs(raw.decode("ascii")))


def _plain(raw: bytes) -> Any:
    if not raw.isascii() or b"\x1b" in raw:
        return _SLOW
    return raw.decode("ascii").rstrip("\x00 ")


def _strip_values(text: str) -> str:
    """Stripped as pydicom strips text: each of several values loses its trailing spaces
    (PS3.5 6.2: they are padding), the whole its leading and trailing ones."""
    if "\\" in text:
        text = "\\".join(v.rstrip(" \x00") for v in text.split("\\"))
    return text.strip(" \x00")


def _stripped(raw: bytes) -> Any:
    if not raw.isascii() or b"\x1b" in raw:
        return _SLOW
    return _strip_values(raw.decode("ascii"))


def _pn(raw: bytes) -> Any:
    if not raw.isascii() or b"\x1b" in raw or b"=" in raw:
        return _SLOW
    return _strip_values(raw.decode("ascii"))


def _shape_cs(text: str) -> Any:
    text = text.rstrip("\x00 ")
    return tuple(p.strip() for p in text.split("\\")) if "\\" in text else text.strip()


#: How the ASCII decoders above shape a decoded value, by VR (for :class:`_Text`).
_SHAPES: dict[str, Callable[[str], Any]] = {
    "CS": _shape_cs, "PN": _strip_values, "LO": _strip_values, "SH": _strip_values,
    "DA": lambda t: t.rstrip("\x00 "), "TM": lambda t: t.rstrip("\x00 "),
}


_DECODERS: dict[str, Callable[[bytes], Any]] = {
    "US": _us, "UL": _ul, "UI": _ui_memo, "DS": _ds, "IS": _is, "CS": _cs, "PN": _pn, "LO": _stripped,
    "SH": _stripped,
}
#: tag -> (keyword, VR, decoder) for every wanted table, built on first use.
_PLANS: dict[int, dict[int, tuple[str, str, Callable[[bytes], Any]]]] = {}


def _plan(wanted: dict[int, tuple[str, str]]) -> dict[int, tuple[str, str, Callable[[bytes], Any]]]:
    plan = _PLANS.get(id(wanted))
    if plan is None:
        plan = {tag: (kw, vr, _DECODERS.get(vr, _plain)) for tag, (kw, vr) in wanted.items()}
        _PLANS[id(wanted)] = plan
    return plan


def decode(found: dict[int, bytes], wanted: dict[int, tuple[str, str]], text: _Text | bytes | None) -> dict[str, Any]:
    """Raw values -> keyword: value, shaped like pydicom's (str, int, float or lists).

    ``wanted`` must be a long-lived table (:data:`WANTED`, :data:`RECORD_WANTED`);
    ``text`` is a :class:`_Text` or the raw Specific Character Set (made into one only
    when a value is not plain ASCII).
    """
    out: dict[str, Any] = {}
    plan = _plan(wanted)
    for tag, raw in found.items():
        keyword, vr, convert = plan[tag]
        value = convert(raw)
        if value is _SLOW:
            if not isinstance(text, _Text):
                text = _Text(text)
            out[keyword] = text.pydicom_value(raw, tag, vr)
        elif value is not None:
            out[keyword] = value
    return out


class Values(dict[str, Any]):
    """Decoded values with pydicom-like access: ``get(keyword)`` and attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# ------------------------------------------------------------------ files


def parse_file_header(buf: bytes, complete: bool,
                      wanted: dict[int, tuple[str, str]] = WANTED) -> tuple[Values, str]:
    """Wanted attributes of a Part 10 file whose first bytes are ``buf``.

    Parameters
    ----------
    buf : bytes
        The start of the file (preamble, ``DICM``, File Meta, data set).
    complete : bool
        True when ``buf`` is the whole file.
    wanted : dict
        :data:`WANTED` (what the viewer needs), or :data:`INDEX_WANTED` (what a library
        stores). The functional groups are looked for only when Pixel Spacing is wanted
        (they give the spacing).

    Returns
    -------
    (Values, transfer syntax UID)

    Raises
    ------
    NeedMore
        ``buf`` ends before the header does and ``complete`` is False.
    Unsupported
        Not a Part 10 file in Explicit/Implicit VR Little Endian, or an unusual encoding.
    """
    if len(buf) < 132 or buf[128:132] != b"DICM":
        raise Unsupported("no DICM prefix")
    # File Meta: always Explicit VR Little Endian, group 0002 (PS3.10 7.1).
    meta, pos, _ = read_elements(buf, 132, len(buf), False, {0x00020002: ("", "UI"), 0x00020003: ("", "UI"),
                                                             0x00020010: ("", "UI")}, stop=0x00030000)
    ts = meta.get(0x00020010, b"").decode("ascii", "replace").rstrip("\x00 ")
    if ts not in (_EXPLICIT_LE, _IMPLICIT_LE):
        raise Unsupported(f"transfer syntax {ts or '(none)'}")
    if meta.get(0x00020002, b"").rstrip(b"\x00 ") == b"1.2.840.10008.1.3.10":
        raise Unsupported("a DICOMDIR")
    implicit = ts == _IMPLICIT_LE
    try:
        # Phase 1: up to the last wanted tag (Pixel Aspect Ratio, 0028,0034).
        if implicit:
            found, pos, stop = read_elements(buf, pos, len(buf), True, wanted, stop=_AFTER_WANTED)
        else:
            found, pos, stop = read_explicit(buf, pos, len(buf), wanted, stop=_AFTER_WANTED)
        if stop == 0 and not complete:
            raise NeedMore("the header goes on")
        # Phase 2, only without Pixel Spacing: look for enhanced functional groups (their
        # Pixel Measures give the spacing, pydicom reads those). With Pixel Spacing the
        # rest (private groups such as Siemens CSA headers) is not even read.
        if stop and 0x00280030 in wanted and 0x00280030 not in found:
            stop_at = min(PIXEL_DATA, FUNCTIONAL_GROUPS)
            if implicit:
                _, _, stop = read_elements(buf, pos, len(buf), True, {}, stop=stop_at)
            else:
                _, _, stop = read_explicit(buf, pos, len(buf), {}, stop=stop_at)
            if stop == FUNCTIONAL_GROUPS:
                raise Unsupported("enhanced functional groups")
            if stop == 0 and not complete:
                raise NeedMore("no Pixel Data yet")
    except NeedMore:
        if complete:
            raise Unsupported("truncated header") from None
        raise
    values = Values(decode(found, wanted, found.get(0x00080005)))
    if 0x00020003 in meta:
        values["file_meta"] = Values(
            MediaStorageSOPInstanceUID=meta[0x00020003].decode("ascii", "replace").rstrip("\x00 "))
    return values, ts


#: The fast reader reads at most this much of a file's start; a longer header (a huge
#: private value before the wanted attributes) goes to pydicom, which skips large values
#: by seeking past them instead of reading them.
MAX_FAST_HEADER = 8 * 1024 ** 2


def read_file_values(path: str, first_chunk: int = 16384,
                     wanted: dict[int, tuple[str, str]] = WANTED) -> tuple[Values, str]:
    """Read the start of ``path`` (doubling while needed) and parse it with :func:`parse_file_header`."""
    with open(path, "rb") as fh:
        buf = fh.read(first_chunk)
        complete = len(buf) < first_chunk
        while True:
            try:
                return parse_file_header(buf, complete, wanted)
            except NeedMore:
                if complete:
                    raise Unsupported("truncated header") from None
                want = len(buf)
                if want * 2 > MAX_FAST_HEADER:
                    raise Unsupported(f"header longer than {MAX_FAST_HEADER} bytes") from None
                more = fh.read(want)
                buf += more
                complete = len(more) < want


# ------------------------------------------------------------------ DICOMDIR


class Record:
    """One directory record: its links (PS3.3 F.3.2.2) and its attributes, decoded on first use."""

    __slots__ = ("next", "lower", "in_use", "rtype", "_raw", "_charset", "_values")

    def __init__(self, next_offset: int, lower: int, in_use: int | None, rtype: str,
                 raw: dict[int, bytes] | None = None, charset: bytes | None = None,
                 values: dict[str, Any] | None = None) -> None:
        self.next = next_offset
        self.lower = lower
        self.in_use = in_use
        self.rtype = rtype
        self._raw = raw
        self._charset = charset
        self._values = values

    @property
    def values(self) -> dict[str, Any]:
        """Keyword -> value of the record's attributes (links excluded)."""
        if self._values is None:
            self._values = decode(self._raw or {}, RECORD_WANTED, self._charset)
        return self._values


_LINK_TAGS = (0x00041400, 0x00041420, 0x00041410, 0x00041430)


def parse_dicomdir(buf: bytes) -> tuple[int, dict[int, Record], list[int]]:
    """Directory records of a whole DICOMDIR file.

    Returns
    -------
    (root offset, {item offset: record}, item offsets in sequence order)
        Offsets are from the start of the file to the record's item tag, as the
        directory offsets count them (PS3.3 F.3.2.1).
    """
    if len(buf) < 132 or buf[128:132] != b"DICM":
        raise Unsupported("no DICM prefix")
    meta, pos, _ = read_elements(buf, 132, len(buf), False, {0x00020010: ("", "UI")}, stop=0x00030000)
    ts = meta.get(0x00020010, b"").decode("ascii", "replace").rstrip("\x00 ")
    if ts != _EXPLICIT_LE:
        raise Unsupported(f"DICOMDIR transfer syntax {ts or '(none)'}")
    root = 0
    end = len(buf)
    records: dict[int, Record] = {}
    order: list[int] = []
    pop = dict.pop
    while pos < end:
        vpos, tag, vr, length, undefined = _header(buf, pos, False)
        if tag == 0x00041200:
            root = _u32(buf, vpos)[0]
        if tag != 0x00041220:
            if undefined:
                pos = _skip_undefined(buf, vpos, vr == b"UN")
            else:
                pos = vpos + length
            continue
        seq_end = end if undefined else vpos + length
        pos = vpos
        while pos < seq_end:
            group, elem, ilen = _tag_len(buf, pos)
            itag = group << 16 | elem
            if itag == _SEQ_END:
                break
            if itag != _ITEM:
                raise Unsupported(f"unexpected tag {itag:08X} in Directory Record Sequence")
            item_at = pos
            item_end = seq_end if ilen == _UNDEFINED else pos + 8 + ilen
            found, pos, stop = read_explicit(buf, pos + 8, item_end, RECORD_WANTED, stop=0xFFFEE000)
            if stop == _ITEM_END:
                pos += 8
            elif ilen != _UNDEFINED:
                pos = item_end
            nxt, lower, in_use, rtype = (pop(found, t, None) for t in _LINK_TAGS)
            records[item_at] = Record(_u32(nxt, 0)[0] if nxt and len(nxt) >= 4 else 0,
                                      _u32(lower, 0)[0] if lower and len(lower) >= 4 else 0,
                                      _u16(in_use, 0)[0] if in_use and len(in_use) >= 2 else None,
                                      rtype.decode("ascii", "replace").strip(" \x00") if rtype else "",
                                      found, found.get(0x00080005))
            order.append(item_at)
        break
    return root, records, order
