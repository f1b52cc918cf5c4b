"""Attribute checks of the print SCP (PS3.4 H.4, attribute lists of PS3.3 C.13).

Each check returns ``None`` when the data set is acceptable, or a :class:`Problem` with the
DIMSE status to answer and a message for the log and the Error Comment (0000,0902).
Warnings (0xB6xx, PS3.4 H.4) are Problems too; the caller decides whether to go on.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset

from viewer.net.print_scp.printer_config import VirtualPrinterConfig
from viewer.dicom.print_terms import (DecimateCrop, FilmOrientation, Polarity, PresentationLUTShape, PrintPriority,
                                         values)

# PS3.7 C: general statuses used by the print SCP.
NO_SUCH_ATTRIBUTE = 0x0105
INVALID_VALUE = 0x0106
MISSING_ATTRIBUTE = 0x0120
PROCESSING_FAILURE = 0x0110
NO_SUCH_INSTANCE = 0x0112
NO_SUCH_ACTION = 0x0123
DUPLICATE_INSTANCE = 0x0111
UNRECOGNISED_OPERATION = 0x0211
RESOURCE_LIMITATION = 0x0213  # PS3.7 C.5: a request the SCP will not hold in memory
#: Largest image (rows x columns) an image box accepts: 8192 x 8192, far above any film's
#: printable resolution; a bigger one is refused before it is kept (bounded memory).
MAX_IMAGE_PIXELS = 8192 * 8192
ATTRIBUTE_LIST_ERROR = 0x0107  # warning for N-GET of unknown attributes, PS3.7 10.1.2.1.9
# PS3.4 H.4 print statuses.
W_MEMORY_ALLOCATION = 0xB600
W_SESSION_EMPTY = 0xB602
W_FILM_BOX_EMPTY = 0xB603
W_DEMAGNIFIED = 0xB604
W_DENSITY_RANGE = 0xB605
W_CROPPED = 0xB609
E_NO_FILM_BOX = 0xC600
E_IMAGE_TOO_LARGE = 0xC603
E_FILM_BOX_NOT_PRINTED = 0xC616

_COMMON = {"SpecificCharacterSet"}
#: PS3.4 H.4.1.2.1 / PS3.3 C.13.1: Basic Film Session attributes (N-CREATE and N-SET).
FILM_SESSION_ATTRS = _COMMON | {"NumberOfCopies", "PrintPriority", "MediumType", "FilmDestination",
                                "FilmSessionLabel", "MemoryAllocation", "OwnerID",
                                "ReferencedPresentationLUTSequence"}  # session-level P-LUT, CP-173
#: PS3.4 H.4.2.2.1 / PS3.3 C.13.3, C.13.4: Basic Film Box N-CREATE attributes.
FILM_BOX_SET_ATTRS = _COMMON | {"MagnificationType", "SmoothingType", "BorderDensity", "EmptyImageDensity",
                                "MinDensity", "MaxDensity", "Trim", "ConfigurationInformation",
                                "Illumination", "ReflectedAmbientLight", "ReferencedPresentationLUTSequence"}
FILM_BOX_CREATE_ATTRS = FILM_BOX_SET_ATTRS | {"ImageDisplayFormat", "AnnotationDisplayFormatID",
                                              "FilmOrientation", "FilmSizeID", "RequestedResolutionID",
                                              "ReferencedFilmSessionSequence"}
#: PS3.4 H.4.3.1.2.1 / H.4.3.2.2.1: Image Box N-SET attributes.
IMAGE_BOX_ATTRS = _COMMON | {"ImageBoxPosition", "Polarity", "MagnificationType", "SmoothingType",
                             "ConfigurationInformation", "RequestedImageSize", "RequestedDecimateCropBehavior",
                             "BasicGrayscaleImageSequence", "BasicColorImageSequence",
                             "ReferencedPresentationLUTSequence"}
#: PS3.4 H.4.5.2.1: Basic Annotation Box N-SET attributes.
ANNOTATION_ATTRS = _COMMON | {"AnnotationPosition", "TextString"}
PRINT_PRIORITIES = values(PrintPriority)
ORIENTATIONS = values(FilmOrientation)
POLARITIES = values(Polarity)
DECIMATE_CROP = values(DecimateCrop)


@dataclass(frozen=True)
class Problem:
    """A status to answer and why."""

    status: int
    comment: str

    @property
    def is_warning(self) -> bool:
        return (self.status & 0xF000) == 0xB000 or self.status == ATTRIBUTE_LIST_ERROR


def _unknown(ds: Dataset, allowed: set[str], what: str) -> Problem | None:
    extra = [elem.keyword or str(elem.tag) for elem in ds if (elem.keyword or str(elem.tag)) not in allowed]
    if extra:
        return Problem(NO_SUCH_ATTRIBUTE, f"{what}: no such attribute {', '.join(extra)}")
    return None


def _in(ds: Dataset, keyword: str, allowed: tuple[str, ...], what: str) -> Problem | None:
    if keyword in ds and ds[keyword].value not in (None, ""):
        value = str(ds[keyword].value).strip().upper()
        if value not in allowed:
            return Problem(INVALID_VALUE, f"{what}: {keyword} {value!r} not supported (allowed: {', '.join(allowed)})")
    return None


def _density(ds: Dataset, keyword: str, named: tuple[str, ...], what: str) -> Problem | None:
    """Border/Empty Image Density: a name from the profile or hundredths of OD (PS3.3 C.13.3)."""
    if keyword not in ds or ds[keyword].value in (None, ""):
        return None
    value = str(ds[keyword].value).strip().upper()
    if value in named or value.isdigit():
        return None
    return Problem(INVALID_VALUE, f"{what}: {keyword} {value!r} is neither a number nor one of {', '.join(named)}")


def first_problem(*problems: Problem | None) -> Problem | None:
    """The first failure, else the first warning, else None."""
    found = [p for p in problems if p is not None]
    return next((p for p in found if not p.is_warning), found[0] if found else None)


def check_film_session(ds: Dataset, profile: VirtualPrinterConfig) -> Problem | None:
    """PS3.4 H.4.1.2.1.2 Film Session N-CREATE / N-SET checks."""
    what = "Film Session"
    problem = first_problem(
        _unknown(ds, FILM_SESSION_ATTRS, what),
        _in(ds, "PrintPriority", PRINT_PRIORITIES, what),
        _in(ds, "MediumType", profile.medium_types, what),
        _in(ds, "FilmDestination", profile.film_destinations, what),
    )
    if (problem is None and "NumberOfCopies" in ds and ds.NumberOfCopies not in (None, "")
            and not 1 <= int(ds.NumberOfCopies) <= 99):
        problem = Problem(INVALID_VALUE, f"{what}: NumberOfCopies {ds.NumberOfCopies} out of 1..99")
    if problem is None and ds.get("MemoryAllocation") not in (None, ""):
        problem = Problem(W_MEMORY_ALLOCATION, f"{what}: Memory Allocation not supported, ignored")
    return problem


def _film_box_common(ds: Dataset, profile: VirtualPrinterConfig, what: str) -> Problem | None:
    problem = first_problem(
        _in(ds, "MagnificationType", profile.magnification_types, what),
        _in(ds, "SmoothingType", profile.smoothing_types, what),
        _density(ds, "BorderDensity", profile.border_densities, what),
        _density(ds, "EmptyImageDensity", profile.empty_image_densities, what),
    )
    if problem:
        return problem
    lo, hi = ds.get("MinDensity"), ds.get("MaxDensity")
    if lo not in (None, "") and hi not in (None, "") and int(lo) >= int(hi):
        return Problem(INVALID_VALUE, f"{what}: MinDensity {lo} not below MaxDensity {hi}")
    if ((lo not in (None, "") and int(lo) < profile.min_density)
            or (hi not in (None, "") and int(hi) > profile.max_density)):
        return Problem(W_DENSITY_RANGE, f"{what}: density range {lo}..{hi} outside the printer's "
                                        f"{profile.min_density}..{profile.max_density}; the printer's limits are used")
    return None


def check_film_box_create(ds: Dataset, profile: VirtualPrinterConfig) -> Problem | None:
    """PS3.4 H.4.2.2.1 Film Box N-CREATE checks (Image Display Format and session reference mandatory)."""
    what = "Film Box"
    for keyword in ("ImageDisplayFormat", "ReferencedFilmSessionSequence"):
        if keyword not in ds or not ds[keyword].value:
            return Problem(MISSING_ATTRIBUTE, f"{what}: missing mandatory attribute {keyword}")
    problem = _unknown(ds, FILM_BOX_CREATE_ATTRS, what)
    if problem:
        return problem
    fmt = str(ds.ImageDisplayFormat).strip()
    if not profile.allows_display_format(fmt):
        return Problem(INVALID_VALUE, f"{what}: ImageDisplayFormat {fmt!r} not supported")
    annotation = str(ds.get("AnnotationDisplayFormatID", "") or "").strip().upper()
    if annotation and annotation not in profile.annotation_formats:
        return Problem(INVALID_VALUE, f"{what}: AnnotationDisplayFormatID {annotation!r} not supported "
                                      f"(allowed: {', '.join(profile.annotation_formats) or 'none'})")
    return first_problem(
        _in(ds, "FilmOrientation", ORIENTATIONS, what),
        _in(ds, "FilmSizeID", profile.film_sizes, what),
        _in(ds, "RequestedResolutionID", profile.resolution_ids, what),
        _film_box_common(ds, profile, what),
    )


def check_film_box_set(ds: Dataset, profile: VirtualPrinterConfig) -> Problem | None:
    """PS3.4 H.4.2.2.2 Film Box N-SET checks."""
    return first_problem(_unknown(ds, FILM_BOX_SET_ATTRS, "Film Box"), _film_box_common(ds, profile, "Film Box"))


def check_image_box(ds: Dataset, profile: VirtualPrinterConfig, color: bool, position: int,
                    has_plut: bool) -> Problem | None:
    """PS3.4 H.4.3.1.2.1 / H.4.3.2.2.1 Image Box N-SET checks, including the image pixel module."""
    what = f"Image Box {position}"
    problem = _unknown(ds, IMAGE_BOX_ATTRS, what)
    if problem:
        return problem
    seq_kw = "BasicColorImageSequence" if color else "BasicGrayscaleImageSequence"
    other = "BasicGrayscaleImageSequence" if color else "BasicColorImageSequence"
    if other in ds:
        kind = "color" if color else "grayscale"
        return Problem(NO_SUCH_ATTRIBUTE, f"{what}: {other} not allowed in a {kind} image box")
    if "ImageBoxPosition" not in ds or ds.ImageBoxPosition in (None, ""):
        return Problem(MISSING_ATTRIBUTE, f"{what}: missing mandatory attribute ImageBoxPosition")
    if int(ds.ImageBoxPosition) != position:
        return Problem(INVALID_VALUE, f"{what}: ImageBoxPosition {ds.ImageBoxPosition} does not match the instance")
    if seq_kw not in ds or len(ds[seq_kw].value) != 1:
        return Problem(MISSING_ATTRIBUTE, f"{what}: missing mandatory attribute {seq_kw} (one item)")
    problem = first_problem(_in(ds, "Polarity", POLARITIES, what),
                            _in(ds, "MagnificationType", profile.magnification_types, what),
                            _in(ds, "SmoothingType", profile.smoothing_types, what),
                            _in(ds, "RequestedDecimateCropBehavior", DECIMATE_CROP, what))
    return problem or _check_pixels(ds[seq_kw].value[0], profile, color, has_plut, what)


def _check_pixels(item: Dataset, profile: VirtualPrinterConfig, color: bool, has_plut: bool,
                  what: str) -> Problem | None:
    """Image Pixel Module of a Basic Grayscale / Color Image Sequence item (PS3.3 C.13.5)."""
    needed = ("SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns", "BitsAllocated",
              "BitsStored", "HighBit", "PixelRepresentation", "PixelData")
    missing = [k for k in needed if k not in item or item[k].value in (None, b"", "")]
    if missing:
        return Problem(MISSING_ATTRIBUTE, f"{what}: image missing {', '.join(missing)}")
    spp, pi = int(item.SamplesPerPixel), str(item.PhotometricInterpretation).strip()
    ba, bs, hb = int(item.BitsAllocated), int(item.BitsStored), int(item.HighBit)
    rows, cols = int(item.Rows), int(item.Columns)
    if color:
        if (spp, pi, ba, bs, hb) != (3, "RGB", 8, 8, 7):
            return Problem(INVALID_VALUE, f"{what}: color image must be RGB, 3 samples, 8 bits "
                                          f"(got {pi}, {spp} samples, {ba}/{bs}/{hb} bits)")
    else:
        if spp != 1 or pi not in ("MONOCHROME1", "MONOCHROME2"):
            return Problem(INVALID_VALUE,
                           f"{what}: grayscale image must be MONOCHROME1/2 with 1 sample (got {pi}, {spp})")
        if (ba, bs, hb) not in ((8, 8, 7), (16, 12, 11)):
            return Problem(INVALID_VALUE,
                           f"{what}: bits allocated/stored/high {ba}/{bs}/{hb}; 8/8/7 or 16/12/11 expected")
        if bs == 12 and not profile.supports_12bit:
            return Problem(INVALID_VALUE, f"{what}: this printer accepts 8-bit images only")
        if profile.presentation_lut_match_required and not has_plut and bs == 8:
            return Problem(INVALID_VALUE, f"{what}: 8-bit image without a matching Presentation LUT")
    if int(item.PixelRepresentation) != 0:
        return Problem(INVALID_VALUE, f"{what}: PixelRepresentation must be 0 (unsigned)")
    if rows < 1 or cols < 1:
        return Problem(INVALID_VALUE, f"{what}: empty image {rows}x{cols}")
    if rows * cols > MAX_IMAGE_PIXELS:
        return Problem(RESOURCE_LIMITATION, f"{what}: image {rows}x{cols} exceeds the {MAX_IMAGE_PIXELS} pixels "
                                            "this printer accepts")
    expected = rows * cols * spp * ba // 8
    got = len(item.PixelData)
    if got not in (expected, expected + (expected & 1)):
        return Problem(INVALID_VALUE,
                       f"{what}: Pixel Data has {got} bytes, {rows}x{cols}x{spp} at {ba} bits needs {expected}")
    return None


def check_annotation(ds: Dataset, count: int) -> Problem | None:
    """PS3.4 H.4.5.2.1 Annotation Box N-SET checks.

    The SCU gives the Annotation Position in the N-SET (mandatory there); any of the film
    box's annotation instances may take any position of the format (DCMTK's dcmprscu sets
    position 2 on the first instance), so only the range is checked.
    """
    what = "Annotation Box"
    problem = _unknown(ds, ANNOTATION_ATTRS, what)
    if problem:
        return problem
    if "AnnotationPosition" not in ds or ds.AnnotationPosition in (None, ""):
        return Problem(MISSING_ATTRIBUTE, f"{what}: missing mandatory attribute AnnotationPosition")
    if not 1 <= int(ds.AnnotationPosition) <= count:
        return Problem(INVALID_VALUE, f"{what}: AnnotationPosition {ds.AnnotationPosition} not in 1..{count}")
    return None


def check_presentation_lut(ds: Dataset) -> Problem | None:
    """PS3.4 H.4.9.2.1 Presentation LUT N-CREATE: exactly one of the LUT Sequence or the Shape."""
    what = "Presentation LUT"
    problem = _unknown(ds, _COMMON | {"PresentationLUTSequence", "PresentationLUTShape"}, what)
    if problem:
        return problem
    has_seq, has_shape = "PresentationLUTSequence" in ds, ds.get("PresentationLUTShape") not in (None, "")
    if has_seq == has_shape:
        return Problem(MISSING_ATTRIBUTE if not has_seq else INVALID_VALUE,
                       f"{what}: needs exactly one of PresentationLUTSequence or PresentationLUTShape")
    if has_shape:
        return _in(ds, "PresentationLUTShape", values(PresentationLUTShape), what)
    seq = ds.PresentationLUTSequence
    if len(seq) != 1 or "LUTDescriptor" not in seq[0] or "LUTData" not in seq[0]:
        return Problem(MISSING_ATTRIBUTE, f"{what}: LUT Sequence needs one item with LUTDescriptor and LUTData")
    n, _first, bits = (int(v) for v in seq[0].LUTDescriptor)
    n = n or 65536  # PS3.3 C.11.1.1: 0 means 2**16 entries
    if not 8 <= bits <= 16:
        return Problem(INVALID_VALUE, f"{what}: LUT Descriptor {n}\\{_first}\\{bits} not supported (PS3.3 C.11.6.1.1)")
    return None
