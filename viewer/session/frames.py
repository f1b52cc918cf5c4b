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
    position: Vector | None = field(default=None, compare=False, repr=False)
    #: Image Orientation (Patient) (0020,0037): row then column direction cosines
    orientation: tuple[float, float, float, float, float, float] | None = field(default=None, compare=False,
                                                                                repr=False)
    #: Pixel Spacing (row, column) in mm
    spacing: tuple[float, float] | None = field(default=None, compare=False, repr=False)
    frame_of_reference_uid: str = field(default="", compare=False, repr=False)
    study_instance_uid: str = field(default="", compare=False, repr=False)
    patient_id: str = field(default="", compare=False, repr=False)

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
                      patient_id=str(getattr(inst, "patient_id", "") or ""))
        frames.extend(FrameRef(str(inst.path), i, position=position, **common)  # type: ignore[arg-type]
                      for i in range(n))
    return frames
