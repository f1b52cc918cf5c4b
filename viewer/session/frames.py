"""What a viewport steps through: frames of files, with the geometry needed to link viewports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Vector = tuple[float, float, float]

#: Measurements and annotations belong to an image: (SOP Instance UID, 0-based frame).
ImageKey = tuple[str, int]


@dataclass(frozen=True)
class FrameRef:
    """One displayable frame: a file and a 0-based frame index.

    Equality and hashing use the file and frame only; the rest is what the study model
    knew about the image when the stack was built (None/"" when it did not know).
    """

    path: str
    frame_index: int = 0
    sop_instance_uid: str = field(default="", compare=False)
    #: Image Position (Patient) (0020,0032) of the frame, mm, LPS
    position: tuple[float, ...] | None = field(default=None, compare=False, repr=False)
    #: Image Orientation (Patient) (0020,0037): row then column direction cosines
    orientation: tuple[float, ...] | None = field(default=None, compare=False, repr=False)
    #: Pixel Spacing (row, column) in mm
    spacing: tuple[float, float] | None = field(default=None, compare=False, repr=False)
    frame_of_reference_uid: str = field(default="", compare=False, repr=False)
    study_instance_uid: str = field(default="", compare=False, repr=False)
    patient_id: str = field(default="", compare=False, repr=False)
    modality: str = field(default="", compare=False, repr=False)

    @property
    def image_key(self) -> ImageKey:
        """The key measurements are filed under (the path when the UID is not known)."""
        return (self.sop_instance_uid or self.path, self.frame_index)


def frames_of_series(series: Any) -> list[FrameRef]:
    """Every frame of a :class:`viewer.dicom.model.Series` in display order, with its geometry.

    Multi-frame instances carry one position for the instance only (per-frame positions
    of enhanced images are read when the frame is decoded), so their frames get none.
    """
    frames: list[FrameRef] = []
    for inst in series.instances:
        n = int(getattr(inst, "number_of_frames", 1) or 1)
        spacing = getattr(inst, "pixel_spacing", None)
        pair = (float(spacing[0]), float(spacing[1])) if spacing is not None else None
        position = getattr(inst, "image_position", None) if n == 1 else None
        common = dict(sop_instance_uid=str(getattr(inst, "sop_instance_uid", "") or ""),
                      orientation=getattr(inst, "image_orientation", None), spacing=pair,
                      frame_of_reference_uid=str(getattr(inst, "frame_of_reference_uid", "") or ""),
                      study_instance_uid=str(getattr(inst, "study_instance_uid", "") or ""),
                      patient_id=str(getattr(inst, "patient_id", "") or ""),
                      modality=str(getattr(inst, "modality", "") or ""))
        frames.extend(FrameRef(str(inst.path), i, position=position, **common)  # type: ignore[arg-type]
                      for i in range(n))
    return frames


#: SOP Classes whose instances have no Pixel Data to show (PS3.4 Annex B): structured
#: reports and key object selections (1.2.840.10008.5.1.4.1.1.88.x), presentation states
#: (11.x), encapsulated documents (104.x), waveforms (9.x), raw data (66), spatial
#: registration/fiducials (66.x), RT plans/structures/records (481.2-481.9, not RT Image 481.1).
_NO_PIXELS: tuple[tuple[str, str], ...] = (
    ("1.2.840.10008.5.1.4.1.1.88.59", "key object selection"),
    ("1.2.840.10008.5.1.4.1.1.88.", "structured report"),
    ("1.2.840.10008.5.1.4.1.1.11.", "presentation state"),
    ("1.2.840.10008.5.1.4.1.1.104.1", "encapsulated PDF"),
    ("1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"),
    ("1.2.840.10008.5.1.4.1.1.9.", "waveform"),
    ("1.2.840.10008.5.1.4.1.1.66", "raw data / registration"),
    ("1.2.840.10008.5.1.4.1.1.481.2", "RT dose"),
    ("1.2.840.10008.5.1.4.1.1.481.3", "RT structure set"),
    ("1.2.840.10008.5.1.4.1.1.481.", "RT object"),
)
_MODALITY_NO_PIXELS = {"SR": "structured report", "KO": "key object selection", "PR": "presentation state",
                       "DOC": "document", "REG": "registration", "RTSTRUCT": "RT structure set",
                       "RTPLAN": "RT plan"}


def _instance_kind(inst: Any) -> str:
    """What a pixel-less instance is ("" when it may have pixels)."""
    sop = str(getattr(inst, "sop_class_uid", "") or "")
    for prefix, kind in _NO_PIXELS:
        if sop == prefix or (prefix.endswith(".") and sop.startswith(prefix)):
            return kind
    if getattr(inst, "header_loaded", True) and getattr(inst, "rows", None) is None and sop:
        return "no pixel data"
    return ""


def has_pixel_data(series: Any) -> bool:
    """Whether any instance of a series can have an image to show."""
    instances = list(getattr(series, "instances", []))
    if not instances:
        return False
    return any(not _instance_kind(inst) for inst in instances)


def no_pixels_reason(series: Any) -> str:
    """Why a series has no image, for the viewport: ``"A structured report: no image to show."``."""
    instances = list(getattr(series, "instances", []))
    kinds = {_instance_kind(inst) for inst in instances} - {""}
    if not kinds:
        kinds = {_MODALITY_NO_PIXELS.get(str(getattr(series, "modality", "")), "")} - {""}
    kind = ", ".join(sorted(kinds)) or "no pixel data"
    n = len(instances)
    return f"{kind[0].upper()}{kind[1:]} ({n} instance{'s' if n != 1 else ''}): no image to show."


def series_label(series: Any) -> str:
    """``"Series 3 (CT, Chest 1.25)"``: number, modality and description as far as known."""
    number = getattr(series, "series_number", None)
    parts = [x for x in (str(getattr(series, "modality", "") or ""),
                         str(getattr(series, "series_description", "") or "")) if x]
    head = f"Series {number}" if number is not None else "Series"
    return f"{head} ({', '.join(parts)})" if parts else head
