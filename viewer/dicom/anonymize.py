"""De-identification for export: PS3.15 Annex E, Basic Application Level Confidentiality Profile.

Rather than listing the ~650 attributes of PS3.15 Table E.1-1 that must go, this module
keeps only attributes on an allow-list of image, geometry and acquisition attributes that
carry no identity, and drops everything else. That is the profile's intent stated the safe
way round (PS3.15 E.1.1: "attributes not listed ... shall be removed or replaced" is what a
new or private attribute needs anyway), so an attribute added to the standard later, a
private tag or a vendor's free-text field cannot leak. On top of the allow-list:

* Type 2 identity attributes the IODs require are present but empty, or a pseudonym
  (action Z / D of Table E.1-1): Patient's Name, Patient ID, Birth Date, Sex, Study Date
  and Time, Referring Physician, Study ID, Accession Number;
* every instance UID is replaced (action U) by ``2.25.<n>`` derived from a keyed hash
  (PS3.5 B.2), the same for the same input UID and key, so references between exported
  objects stay consistent; well-known UIDs (SOP classes, transfer syntaxes) are kept;
* Patient Identity Removed (0012,0062) "YES" and De-identification Method (0012,0063) and
  its code (0012,0064: DCM 113100 "Basic Application Confidentiality Profile") are added
  (PS3.15 E.1.1, PS3.16 CID 7050);
* the File Meta Information is rebuilt (Media Storage SOP Instance UID follows the new UID).

Nothing here mutates its input (house rule 2): :func:`anonymize` returns a new dataset.
Burned-in annotation (0028,0301) "YES" is kept and logged with the file's name, as are
ultrasound and secondary capture images without the attribute: pixels are not cleaned (the
Clean Pixel Data option is not implemented). Text segments inside compressed pixel data
(JPEG APPn/COM, JPEG 2000 COM) are removed (:mod:`viewer.dicom.anonymize_pixels`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from viewer.errors import ReadError

log = logging.getLogger(__name__)

#: PS3.16 CID 7050 De-identification Method: "Basic Application Confidentiality Profile".
PROFILE_CODE = ("113100", "DCM", "Basic Application Confidentiality Profile")
METHOD = "PS3.15 E.1 Basic Profile (allow-list)"  # LO: at most 64 characters

#: Attributes that identify no one and are needed to display or measure the image.
KEEP: frozenset[str] = frozenset("""
SpecificCharacterSet ImageType SOPClassUID SOPInstanceUID Modality
StudyInstanceUID SeriesInstanceUID FrameOfReferenceUID PositionReferenceIndicator
SeriesNumber InstanceNumber AcquisitionNumber ImagesInAcquisition TemporalPositionIdentifier
NumberOfTemporalPositions PatientOrientation PatientPosition Laterality ImageLaterality ViewPosition
SamplesPerPixel PhotometricInterpretation Rows Columns BitsAllocated BitsStored HighBit
PixelRepresentation PlanarConfiguration PixelAspectRatio SmallestImagePixelValue LargestImagePixelValue
PixelPaddingValue PixelPaddingRangeLimit PixelData FloatPixelData DoubleFloatPixelData
NumberOfFrames FrameIncrementPointer FrameTime FrameTimeVector CineRate RecommendedDisplayFrameRate
StartTrim StopTrim PreferredPlaybackSequencing
RedPaletteColorLookupTableDescriptor GreenPaletteColorLookupTableDescriptor
BluePaletteColorLookupTableDescriptor RedPaletteColorLookupTableData GreenPaletteColorLookupTableData
BluePaletteColorLookupTableData SegmentedRedPaletteColorLookupTableData
SegmentedGreenPaletteColorLookupTableData SegmentedBluePaletteColorLookupTableData
PixelSpacing ImagerPixelSpacing NominalScannedPixelSpacing PixelSpacingCalibrationType
ImageOrientationPatient ImagePositionPatient SliceThickness SliceLocation SpacingBetweenSlices
EstimatedRadiographicMagnificationFactor DistanceSourceToDetector DistanceSourceToPatient
RescaleIntercept RescaleSlope RescaleType WindowCenter WindowWidth VOILUTFunction
ModalityLUTSequence VOILUTSequence LUTDescriptor LUTData PresentationLUTShape PresentationLUTSequence
PixelIntensityRelationship PixelIntensityRelationshipSign LossyImageCompression
LossyImageCompressionRatio LossyImageCompressionMethod BurnedInAnnotation RecognizableVisualFeatures
KVP ExposureTime XRayTubeCurrent Exposure ExposureInuAs FilterType ConvolutionKernel
EchoTime RepetitionTime InversionTime FlipAngle EchoTrainLength MagneticFieldStrength
ScanningSequence SequenceVariant ScanOptions MRAcquisitionType ImagingFrequency ImagedNucleus
NumberOfAverages EchoNumbers PixelBandwidth AcquisitionMatrix InPlanePhaseEncodingDirection
DiffusionBValue DiffusionDirectionality DiffusionGradientOrientation
DiffusionGradientDirectionSequence MRDiffusionSequence
SharedFunctionalGroupsSequence PerFrameFunctionalGroupsSequence PixelMeasuresSequence
PlanePositionSequence PlaneOrientationSequence PixelValueTransformationSequence FrameVOILUTSequence
FrameContentSequence StackID InStackPositionNumber TemporalPositionIndex DimensionIndexValues
DimensionIndexSequence DimensionIndexPointer FunctionalGroupPointer DimensionOrganizationUID
DimensionOrganizationSequence DimensionOrganizationType
ReferencedImageSequence ReferencedSOPClassUID ReferencedSOPInstanceUID ReferencedFrameNumber
""".split())  # noqa: SIM905 - a list of keywords reads best as text

#: Type 2 identity attributes kept present (PS3.15 E.1-1 action Z): empty, or the pseudonym.
EMPTY_TYPE2 = ("PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "ReferringPhysicianName",
               "StudyID", "AccessionNumber")


@dataclass(frozen=True)
class Options:
    """How to de-identify.

    Parameters
    ----------
    key
        Secret for the keyed hashes of UIDs and of the patient pseudonym. The same key gives
        the same new UIDs (an export in several runs stays consistent); keep it secret or a
        known original UID could be checked against an exported one.
    patient_name
        The name written instead of the patient's.
    """

    key: bytes = b""
    patient_name: str = "ANONYMOUS"

    @staticmethod
    def random(patient_name: str = "ANONYMOUS") -> "Options":
        """Options with a fresh random key (UIDs not linkable across exports)."""
        return Options(os.urandom(32), patient_name)


def _digest(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()


def new_uid(uid: str, key: bytes) -> str:
    """The replacement of an instance UID: ``2.25.`` and a 128-bit keyed hash (PS3.5 B.2)."""
    return "2.25." + str(int.from_bytes(_digest(key, uid.strip().rstrip("\0"))[:16], "big"))


def pseudonym(patient_id: str, key: bytes) -> str:
    """A Patient ID pseudonym (LO, 16 hex characters), stable for the same ID and key."""
    return "ANON-" + _digest(key, "patient:" + patient_id.strip()).hex()[:11].upper()


def _is_well_known(uid: str) -> bool:
    return bool(UID(uid).type)  # listed in PS3.6 Annex A (pydicom's UID dictionary), "" otherwise


def _clean(ds: Dataset, opts: Options) -> Dataset:
    out = Dataset()
    for elem in ds:
        keyword = elem.keyword
        if elem.tag.is_private or keyword not in KEEP:
            continue
        if elem.VR == "SQ":
            out.add_new(elem.tag, "SQ", Sequence([_clean(item, opts) for item in elem.value]))
        elif elem.VR == "UI" and elem.value not in (None, ""):
            values = elem.value if elem.VM > 1 else [elem.value]
            mapped = [v if _is_well_known(str(v)) else new_uid(str(v), opts.key) for v in values]
            out.add_new(elem.tag, "UI", mapped if elem.VM > 1 else mapped[0])
        else:
            out.add_new(elem.tag, elem.VR, elem.value)
    return out


def anonymize(ds: Dataset, opts: Options) -> Dataset:
    """A de-identified copy of ``ds`` (PS3.15 E.1, see the module notes); ``ds`` is unchanged.

    Parameters
    ----------
    ds
        The data set, with its pixel data loaded or deferred.
    opts
        Key and replacement name.

    Returns
    -------
    pydicom.dataset.Dataset
        A new data set with File Meta Information matching the new SOP Instance UID.
    """
    out = _clean(ds, opts)
    out.PatientName = opts.patient_name
    out.PatientID = pseudonym(str(ds.get("PatientID", "") or ""), opts.key)
    for keyword in EMPTY_TYPE2:
        setattr(out, keyword, "")
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = PROFILE_CODE
    out.DeidentificationMethodCodeSequence = [code]
    meta = getattr(ds, "file_meta", None)
    _strip_pixel_text(out, str(meta.get("TransferSyntaxUID", "")) if meta else "")
    fm = FileMetaDataset()
    fm.TransferSyntaxUID = UID(str(meta.get("TransferSyntaxUID", "1.2.840.10008.1.2.1"))) if meta else \
        UID("1.2.840.10008.1.2.1")
    fm.MediaStorageSOPClassUID = out.get("SOPClassUID", "1.2.840.10008.5.1.4.1.1.7")
    fm.MediaStorageSOPInstanceUID = out.get("SOPInstanceUID", new_uid("missing", opts.key))
    out.file_meta = fm
    return out


#: SOP classes whose images often carry burned-in text even without Burned In Annotation:
#: Ultrasound (PS3.4 B.5: 1.2.840.10008.5.1.4.1.1.6.x, 1.2.840.10008.5.1.4.1.1.3.1) and
#: Secondary Capture (1.2.840.10008.5.1.4.1.1.7.x).
_OFTEN_BURNED_IN = ("1.2.840.10008.5.1.4.1.1.6.", "1.2.840.10008.5.1.4.1.1.3.1", "1.2.840.10008.5.1.4.1.1.7")


def burned_in_warning(ds: Dataset) -> str | None:
    """Why the pixels of ``ds`` may still show identifying text, or None (PS3.3 C.7.6.1.1.4)."""
    flag = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    if flag == "YES":
        return "Burned In Annotation is YES: the pixels may still show identifying text"
    sop_class = str(ds.get("SOPClassUID", "") or "")
    modality = str(ds.get("Modality", "") or "").upper()
    if not flag and (modality == "US" or sop_class.startswith(_OFTEN_BURNED_IN)):
        kind = "ultrasound" if modality == "US" or ".1.1.6." in sop_class or sop_class.endswith("1.1.3.1") \
            else "secondary capture"
        return (f"a {kind} image without Burned In Annotation (0028,0301): the pixels may show "
                "identifying text")
    return None


def _strip_pixel_text(out: Dataset, transfer_syntax: str) -> None:
    """Drop JPEG APPn/COM and JPEG 2000 COM segments from encapsulated Pixel Data."""
    from viewer.dicom.anonymize_pixels import strip_pixel_text

    value = out.get("PixelData", None)
    if not isinstance(value, (bytes, bytearray)):
        return
    try:
        frames = int(out.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        frames = 1
    cleaned, removed = strip_pixel_text(bytes(value), transfer_syntax, frames)
    if removed:
        out.PixelData = cleaned
        log.info("removed %d text segment(s) from the compressed pixel data", removed)


def anonymize_file(src: str | os.PathLike[str], opts: Options) -> Dataset:
    """Read ``src`` (Part 10 or raw) and return its de-identified copy.

    Raises
    ------
    viewer.errors.ReadError
        The file cannot be read as DICOM.
    """
    from viewer.dicom.frames import read_dataset

    ds = read_dataset(src, defer=False)
    why = burned_in_warning(ds)
    if why:
        log.warning("%s: %s (the export does not clean pixels)", os.fspath(src), why)
    try:
        return anonymize(ds, opts)
    except ValueError as exc:
        raise ReadError(f"{os.fspath(src)}: cannot de-identify the compressed pixel data: {exc}",
                        path=os.fspath(src)) from None


def leaks(ds: Dataset, originals: Iterable[str]) -> list[str]:
    """Attributes of ``ds`` (recursively) whose text contains one of ``originals``.

    A helper for checks and tests: an empty list means none of those strings survived.
    """
    found = []
    needles = [o for o in originals if o]
    for elem in ds.iterall():
        if elem.VR in ("SQ", "OB", "OW", "OF", "OD", "OL", "OV", "UN"):
            continue
        text = str(elem.value)
        if any(n in text for n in needles):
            found.append(f"{elem.tag} {elem.keyword}")
    return found


def output_name(ds: Dataset) -> Path:
    """``<study>/<series>/<sop>.dcm`` of a de-identified data set (UIDs only, never names)."""
    return Path(str(ds.StudyInstanceUID)) / str(ds.SeriesInstanceUID) / f"{ds.SOPInstanceUID}.dcm"
