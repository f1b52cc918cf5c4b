"""Reading one file's header (never its pixels) into an :class:`Instance`.

Two readers give the same result: :mod:`viewer.dicom._header_reader` for the common
case (Part 10, Explicit/Implicit VR Little Endian), and pydicom for everything else and
as the reference the tests compare against. :data:`FIELDS` maps the attributes both
read to the :class:`Instance` fields.

Files are recognised as DICOM by the ``DICM`` prefix after the 128-byte preamble
(PS3.10 7.1), or, for raw data sets without File Meta, by a plausible first element
(group 0x0008, as written by old modalities). Everything else is refused with a reason
before pydicom is asked to parse it, so a large non-DICOM file on a CD costs one read
of 132 bytes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import struct
from typing import TYPE_CHECKING, Any, BinaryIO, Mapping

from viewer.dicom.geometry import PixelSpacing, _floats, pixel_spacing
from viewer.dicom.model import Instance
from viewer.cancel import CancelToken
from viewer.errors import Cancelled, ReadError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

#: Media Storage Directory Storage: a DICOMDIR (PS3.4 Annex B, PS3.10 8.6).
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


class NotAnImage(ReadError):
    """A readable DICOM file that is not a SOP instance to list (e.g. a DICOMDIR)."""


def sniff(head: bytes) -> str:
    """Classify the first 132 bytes: ``"part10"``, ``"raw"``, ``"empty"`` or ``"other"``."""
    if not head:
        return "empty"
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "part10"
    if len(head) >= 8:
        # A raw data set starts with its lowest tag: group 0x0008 (or 0x0002 without
        # preamble), little endian; the element number is small (PS3.5 7.1).
        group = int.from_bytes(head[0:2], "little")
        element = int.from_bytes(head[2:4], "little")
        if group in (0x0002, 0x0008) and element < 0x0200:
            return "raw"
    return "other"


def _text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip()


def _integer(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    if value is None or value == "":
        return None
    return int(float(value))


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def _vec(n: int) -> Any:
    return lambda value: _floats(value, n)


_WORDS: dict[Any, tuple[str, ...]] = {}


def _words(value: Any) -> tuple[str, ...]:
    if type(value) is tuple:  # the fast reader's (shared, immutable) CS values
        words = _WORDS.get(value)
        if words is None:
            if len(_WORDS) > 1024:
                _WORDS.clear()
            words = _WORDS[value] = tuple(v for v in _text(value).split("\\") if v)
        return words
    return tuple(v for v in _text(value).split("\\") if v)


#: DICOM keyword -> (Instance field, converter). Converters accept pydicom's values
#: (MultiValue, DSfloat, PersonName) and the plain ones of the fast reader alike.
FIELDS: dict[str, tuple[str, Any]] = {
    "SOPInstanceUID": ("sop_instance_uid", _text),
    "SOPClassUID": ("sop_class_uid", _text),
    "StudyInstanceUID": ("study_instance_uid", _text),
    "SeriesInstanceUID": ("series_instance_uid", _text),
    "PatientID": ("patient_id", _text),
    "IssuerOfPatientID": ("issuer_of_patient_id", _text),
    "PatientName": ("patient_name", _text),
    "PatientBirthDate": ("patient_birth_date", _text),
    "PatientSex": ("patient_sex", _text),
    "StudyDate": ("study_date", _text),
    "StudyTime": ("study_time", _text),
    "StudyDescription": ("study_description", _text),
    "StudyID": ("study_id", _text),
    "AccessionNumber": ("accession_number", _text),
    "Modality": ("modality", _text),
    "SeriesNumber": ("series_number", _integer),
    "SeriesDescription": ("series_description", _text),
    "InstanceNumber": ("instance_number", _integer),
    "AcquisitionNumber": ("acquisition_number", _integer),
    "ContentTime": ("content_time", _text),
    "AcquisitionTime": ("_acquisition_time", _text),
    "NumberOfFrames": ("number_of_frames", _integer),
    "Rows": ("rows", _integer),
    "Columns": ("columns", _integer),
    "ImagePositionPatient": ("image_position", _vec(3)),
    "ImageOrientationPatient": ("image_orientation", _vec(6)),
    "PixelAspectRatio": ("pixel_aspect", _vec(2)),
    "SliceThickness": ("slice_thickness", _number),
    "SliceLocation": ("slice_location", _number),
    "PatientPosition": ("patient_position", _text),
    "FrameOfReferenceUID": ("frame_of_reference_uid", _text),
    "BodyPartExamined": ("body_part_examined", _text),
    "ViewPosition": ("view_position", _text),
    "ImageLaterality": ("laterality", _text),
    "Laterality": ("_series_laterality", _text),
    "ImageType": ("image_type", _words),
    "EchoNumbers": ("echo_number", _integer),
    "TemporalPositionIdentifier": ("temporal_position", _integer),
}
#: Attributes that feed :func:`viewer.dicom.geometry.pixel_spacing`.
SPACING_KEYWORDS = ("PixelSpacing", "ImagerPixelSpacing", "NominalScannedPixelSpacing",
                    "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence")


def fields_from(ds: Dataset | Mapping[str, Any]) -> dict[str, Any]:
    """Instance fields from a pydicom Dataset or a keyword -> value dict (present ones only).

    A value that does not convert (malformed DS/IS, ...) is left out, as if missing.
    """
    out: dict[str, Any] = {}
    if isinstance(ds, dict):
        for keyword, value in ds.items():
            spec = FIELDS.get(keyword)
            if spec is None or value is None:
                continue
            try:
                converted = spec[1](value)
            except (TypeError, ValueError, IndexError):
                continue
            if converted is not None:
                out[spec[0]] = converted
        return out
    for keyword, (field_name, convert) in FIELDS.items():
        try:
            value = ds.get(keyword)
            if value is None:
                continue
            converted = convert(value)
        except Exception:  # noqa: BLE001 - a malformed element reads as missing
            continue
        if converted is not None:
            out[field_name] = converted
    return out


def instance_defaults(fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every Instance field with its default, overlaid with ``fields`` (a base for :func:`build_instance`)."""
    data = _DEFAULTS.copy()
    if fields:
        data.update(fields)
    return data


def build_instance(fields: dict[str, Any], path: str | None, transfer_syntax_uid: str,
                   spacing: PixelSpacing | None, meta_sop_uid: str = "",
                   base: dict[str, Any] | None = None) -> Instance:
    """Validate ``fields`` (from :func:`fields_from`) and make the :class:`Instance`.

    Parameters
    ----------
    base : dict, optional
        From :func:`instance_defaults`: fields shared by many instances (a DICOMDIR
        series), under ``fields``.

    Raises
    ------
    ReadError
        Without SOP, Study or Series Instance UID (Type 1, PS3.3 C.12.1, C.7.2.1, C.7.3.1).
    """
    data = (base if base is not None else _DEFAULTS).copy()
    data.update(fields)
    if not data["sop_instance_uid"]:
        data["sop_instance_uid"] = meta_sop_uid
    if not (data["sop_instance_uid"] and data["study_instance_uid"] and data["series_instance_uid"]):
        _generate_uids(data, path)
    acquisition_time = data.pop("_acquisition_time", "")
    # Image Laterality (0020,0062) is the image's; Laterality (0020,0060) the series' (PS3.3 C.7.3.1).
    series_laterality = data.pop("_series_laterality", "")
    if not data["laterality"]:
        data["laterality"] = series_laterality
    if not data["content_time"]:
        data["content_time"] = acquisition_time
    frames = data["number_of_frames"]
    if not frames or frames < 1:
        data["number_of_frames"] = 1
    data["path"] = path
    data["transfer_syntax_uid"] = transfer_syntax_uid
    data["pixel_spacing"] = spacing
    # Equivalent to Instance(**data) for this plain dataclass, at a fraction of the cost
    # when thousands of DICOMDIR records are listed.
    inst = object.__new__(Instance)
    inst.__dict__ = data
    return inst


def _generate_uids(data: dict[str, Any], path: str | None) -> None:
    """Fill empty SOP/Series/Study Instance UIDs of an image with stable generated ones.

    DCMTK renders an image whose UIDs are empty; the model needs them as keys. The
    generated UIDs derive from the path (and a present Series UID), so the same file gets
    the same ones on every scan. Without Rows/Columns the file is no image to show: the
    header is incomplete (truncated), and refused.
    """
    keys = (("SOP Instance", "sop_instance_uid"), ("Series Instance", "series_instance_uid"),
            ("Study Instance", "study_instance_uid"))
    missing = tuple(name for name, key in keys if not data[key])
    if not path or not data.get("rows") or not data.get("columns"):
        raise ReadError(f"incomplete header: no {' and no '.join(missing)} UID and no image size (truncated?)",
                        path=path)
    from pydicom.uid import generate_uid

    where = os.path.abspath(path)
    if not data["sop_instance_uid"]:
        data["sop_instance_uid"] = str(generate_uid(entropy_srcs=["sop", where]))
    if not data["series_instance_uid"]:
        data["series_instance_uid"] = str(generate_uid(entropy_srcs=["series", where]))
    if not data["study_instance_uid"]:
        data["study_instance_uid"] = str(generate_uid(entropy_srcs=["study", data["series_instance_uid"]]))
    data["generated_uids"] = missing
    log.warning("%s: empty or missing %s UID; shown with generated identifiers", path, ", ".join(missing))


#: Every Instance field with its default (path and SOP Instance UID have none).
_DEFAULTS: dict[str, Any] = {
    f.name: (None if f.name == "path" else "" if f.name == "sop_instance_uid" else f.default)
    for f in dataclasses.fields(Instance)
}


def instance_from_dataset(ds: Dataset | Mapping[str, Any], path: str | None, transfer_syntax_uid: str = "") -> Instance:
    """Build an :class:`Instance` from a header data set (pydicom Dataset or keyword dict).

    Raises
    ------
    ReadError
        Without SOP, Study or Series Instance UID, which key the model.
    """
    meta = getattr(ds, "file_meta", None)
    meta_sop = ""
    if meta is not None:
        try:
            meta_sop = _text(meta.get("MediaStorageSOPInstanceUID") or "")
        except Exception:  # noqa: BLE001 - a malformed File Meta value reads as missing
            meta_sop = ""
    return build_instance(fields_from(ds), path, transfer_syntax_uid, pixel_spacing(ds), meta_sop)


#: Header values longer than this are left in the file (seeked past, never read).
HEADER_DEFER_SIZE = 1024 ** 2
#: At most this many bytes are read for one header (large values are skipped, not counted)...
MAX_HEADER_READ = 64 * 1024 ** 2
#: ... in at most this many reads: a run of empty elements (gigabytes of zeros) parses at
#: 8 bytes per element, and would keep pydicom busy for minutes.
MAX_HEADER_READS = 1_000_000


def read_header(source: str | os.PathLike[str] | BinaryIO, name: str | None = None,
                cancel: CancelToken | None = None) -> Any:
    """The header of a DICOM file as a pydicom Dataset, stopping before Pixel Data.

    Parameters
    ----------
    source : path or binary file object
    name : str, optional
        The name used in messages (defaults to the path).

    Raises
    ------
    ReadError
        Empty, not DICOM, or unparsable; the message says which.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    from viewer.dicom.bounded_io import (MAX_INFLATED_HEADER, BudgetExceeded, InflateLimit, dcmread_bounded,
                                         is_deflated, meta_start_ok, read_deflated)

    label = name or str(source)
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as fh:
                head = fh.read(136)
        else:
            pos = source.tell()
            head = source.read(136)
            source.seek(pos)
    except IsADirectoryError:
        raise ReadError("is a folder", path=label) from None
    except FileNotFoundError:
        raise ReadError("file not found", path=label) from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}", path=label) from exc
    kind = sniff(head)
    if kind == "empty":
        raise ReadError("empty file (0 bytes)", path=label)
    if kind == "other":
        raise ReadError("not a DICOM file (no DICM prefix and no data set at the start)", path=label)
    if kind == "part10" and not meta_start_ok(head):
        raise ReadError("not a DICOM file: no File Meta Information after the DICM prefix (PS3.10 7.1)",
                        path=label)
    try:
        if isinstance(source, (str, os.PathLike)) and is_deflated(source):
            # Inflated as it is parsed, up to Pixel Data only, within bounds (PS3.5 A.5).
            ds = read_deflated(source, stop_before_pixels=True, max_output=MAX_INFLATED_HEADER, cancel=cancel)
        elif isinstance(source, (str, os.PathLike)):
            # Large values (a 2 GiB private OB) are seeked past, and the bytes and elements
            # read are bounded.
            ds = dcmread_bounded(source, stop_before_pixels=True, force=(kind == "raw"),
                                 defer_size=HEADER_DEFER_SIZE, max_bytes=MAX_HEADER_READ, max_reads=MAX_HEADER_READS,
                                 cancel=cancel)
        else:
            ds = pydicom.dcmread(source, stop_before_pixels=True, force=(kind == "raw"))
    except (BudgetExceeded, InflateLimit) as exc:
        raise ReadError(f"refused: {exc}", path=label) from None
    except Cancelled:
        raise
    except InvalidDicomError as exc:
        raise ReadError(f"not a DICOM file: {exc}", path=label) from exc
    except (EOFError, OSError) as exc:
        raise ReadError(f"truncated header: {exc}", path=label) from exc
    except Exception as exc:  # pydicom raises many types on corrupt data
        raise ReadError(f"corrupt header: {type(exc).__name__}: {exc}", path=label) from exc
    return ds


def _read_instance_pydicom(path: str | os.PathLike[str], cancel: CancelToken | None = None) -> Instance:
    ds = read_header(path, cancel=cancel)
    try:
        meta = getattr(ds, "file_meta", None)
        sop_class = _text(meta.get("MediaStorageSOPClassUID") or "") if meta is not None else ""
        if sop_class == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
            raise NotAnImage("DICOMDIR (media directory, not an image)", path=str(path))
        ts = _text(meta.get("TransferSyntaxUID") or "") if meta is not None else ""
        if not ts:
            # A raw data set: pydicom guessed the encoding from the first element.
            implicit, little = getattr(ds, "original_encoding", (True, True))
            ts = "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"
        return instance_from_dataset(ds, os.fspath(path), ts)
    except ReadError:
        raise
    except Exception as exc:  # any malformed value: report, don't crash the scan
        raise ReadError(f"corrupt header: {type(exc).__name__}: {exc}", path=str(path)) from exc


def read_instance(path: str | os.PathLike[str], fast: bool = True, cancel: CancelToken | None = None, *,
                  index_only: bool = False) -> Instance:
    """Read the header of ``path`` (no pixels) into an :class:`Instance`.

    Parameters
    ----------
    path : path-like
    fast : bool
        Try the built-in header reader first (:mod:`viewer.dicom._header_reader`);
        files it does not handle are read with pydicom, which is also the test oracle.
    index_only : bool
        Only what a study library stores (``_header_reader.INDEX_KEYWORDS``): the
        instance's geometry, pixel spacing and acquisition details keep their defaults.
        For indexing files no one is about to look at (``library import``).

    Raises
    ------
    NotAnImage
        For a DICOMDIR (a directory, not an instance to show).
    ReadError
        For an empty, non-DICOM, truncated or incomplete file, with the reason.
    """
    if fast:
        from viewer.dicom._header_reader import INDEX_WANTED, WANTED, Unsupported, read_file_values

        try:
            values, ts = read_file_values(os.fspath(path), wanted=INDEX_WANTED if index_only else WANTED)
        except (Unsupported, OSError, struct.error, IndexError, ValueError, RecursionError):
            pass  # pydicom reads it, or says precisely what is wrong
        else:
            return instance_from_dataset(values, os.fspath(path), ts)
    return _read_instance_pydicom(path, cancel)
