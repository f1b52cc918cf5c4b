"""Reading one file's header (never its pixels) into an :class:`Instance`.

Files are recognised as DICOM by the ``DICM`` prefix after the 128-byte preamble
(PS3.10 7.1), or, for raw data sets without File Meta, by a plausible first element
(group 0x0008, as written by old modalities). Everything else is refused with a reason
before pydicom is asked to parse it, so a large non-DICOM file on a CD costs one read
of 132 bytes.
"""

from __future__ import annotations

import logging
import os
from typing import Any, BinaryIO

from viewer.dicom.geometry import _floats, pixel_spacing
from viewer.dicom.model import Instance
from viewer.errors import ReadError

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


def _str(ds: Any, keyword: str) -> str:
    try:
        value = ds.get(keyword)
    except Exception:  # noqa: BLE001 - a malformed value reads as missing
        return ""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip()


def _int(ds: Any, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        if value is None or value == "":
            return None
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            value = value[0]
        return int(float(value))
    except Exception:  # noqa: BLE001
        return None


def _float(ds: Any, keyword: str) -> float | None:
    try:
        value = ds.get(keyword)
        return None if value is None or value == "" else float(value)
    except Exception:  # noqa: BLE001
        return None


def _vector(ds: Any, keyword: str, n: int) -> tuple[float, ...] | None:
    try:
        return _floats(ds.get(keyword), n)
    except Exception:  # noqa: BLE001
        return None


def instance_from_dataset(ds: Any, path: str | None, transfer_syntax_uid: str = "") -> Instance:
    """Build an :class:`Instance` from a header data set (pydicom Dataset).

    Raises
    ------
    ReadError
        Without SOP Instance UID (PS3.3 C.12.1: Type 1), which keys the model.
    """
    sop_uid = _str(ds, "SOPInstanceUID")
    if not sop_uid:
        meta = getattr(ds, "file_meta", None)
        sop_uid = _str(meta, "MediaStorageSOPInstanceUID") if meta is not None else ""
    if not sop_uid:
        raise ReadError("not a DICOM image: no SOP Instance UID (truncated or incomplete header)", path=path)
    study_uid, series_uid = _str(ds, "StudyInstanceUID"), _str(ds, "SeriesInstanceUID")
    if not study_uid or not series_uid:
        # Both are Type 1 in the General Study/Series modules (PS3.3 C.7.2.1, C.7.3.1).
        missing = " and ".join(n for n, v in (("Study", study_uid), ("Series", series_uid)) if not v)
        raise ReadError(f"incomplete header: no {missing} Instance UID (truncated?)", path=path)
    sop_class = _str(ds, "SOPClassUID")
    frames = _int(ds, "NumberOfFrames")
    ipp = _vector(ds, "ImagePositionPatient", 3)
    iop = _vector(ds, "ImageOrientationPatient", 6)
    echo = _int(ds, "EchoNumbers")
    return Instance(
        path=path,
        sop_instance_uid=sop_uid,
        sop_class_uid=sop_class,
        study_instance_uid=study_uid,
        series_instance_uid=series_uid,
        patient_id=_str(ds, "PatientID"),
        patient_name=_str(ds, "PatientName"),
        patient_birth_date=_str(ds, "PatientBirthDate"),
        patient_sex=_str(ds, "PatientSex"),
        study_date=_str(ds, "StudyDate"),
        study_time=_str(ds, "StudyTime"),
        study_description=_str(ds, "StudyDescription"),
        study_id=_str(ds, "StudyID"),
        accession_number=_str(ds, "AccessionNumber"),
        modality=_str(ds, "Modality"),
        series_number=_int(ds, "SeriesNumber"),
        series_description=_str(ds, "SeriesDescription"),
        instance_number=_int(ds, "InstanceNumber"),
        acquisition_number=_int(ds, "AcquisitionNumber"),
        content_time=_str(ds, "ContentTime") or _str(ds, "AcquisitionTime"),
        number_of_frames=frames if frames and frames > 0 else 1,
        rows=_int(ds, "Rows"),
        columns=_int(ds, "Columns"),
        image_position=ipp,  # type: ignore[arg-type]
        image_orientation=iop,  # type: ignore[arg-type]
        pixel_spacing=pixel_spacing(ds),
        pixel_aspect=_vector(ds, "PixelAspectRatio", 2),  # type: ignore[arg-type]
        slice_thickness=_float(ds, "SliceThickness"),
        slice_location=_float(ds, "SliceLocation"),
        patient_position=_str(ds, "PatientPosition"),
        frame_of_reference_uid=_str(ds, "FrameOfReferenceUID"),
        transfer_syntax_uid=transfer_syntax_uid,
        image_type=tuple(v for v in _str(ds, "ImageType").split("\\") if v),
        echo_number=echo,
        temporal_position=_int(ds, "TemporalPositionIdentifier"),
        header_loaded=True,
        source="file",
    )


def read_header(source: str | os.PathLike[str] | BinaryIO, name: str | None = None) -> Any:
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

    label = name or str(source)
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as fh:
                head = fh.read(132)
        else:
            pos = source.tell()
            head = source.read(132)
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
    try:
        ds = pydicom.dcmread(source, stop_before_pixels=True, force=(kind == "raw"))
    except InvalidDicomError as exc:
        raise ReadError(f"not a DICOM file: {exc}", path=label) from exc
    except (EOFError, OSError) as exc:
        raise ReadError(f"truncated header: {exc}", path=label) from exc
    except Exception as exc:  # noqa: BLE001 - pydicom raises many types on corrupt data
        raise ReadError(f"corrupt header: {type(exc).__name__}: {exc}", path=label) from exc
    return ds


def read_instance(path: str | os.PathLike[str]) -> Instance:
    """Read the header of ``path`` (no pixels) into an :class:`Instance`.

    Raises
    ------
    NotAnImage
        For a DICOMDIR (a directory, not an instance to show).
    ReadError
        For an empty, non-DICOM, truncated or incomplete file, with the reason.
    """
    ds = read_header(path)
    meta = getattr(ds, "file_meta", None)
    sop_class = _str(meta, "MediaStorageSOPClassUID") if meta is not None else ""
    if sop_class == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        raise NotAnImage("DICOMDIR (media directory, not an image)", path=str(path))
    ts = _str(meta, "TransferSyntaxUID") if meta is not None else ""
    if not ts:
        # A raw data set: pydicom guessed the encoding from the first element.
        implicit, little = getattr(ds, "original_encoding", (True, True))
        ts = "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"
    try:
        return instance_from_dataset(ds, os.fspath(path), ts)
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed value: report, don't crash the scan
        raise ReadError(f"corrupt header: {type(exc).__name__}: {exc}", path=str(path)) from exc
