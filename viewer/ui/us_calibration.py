"""Which pixel size a measurement uses, ultrasound regions included.

A frame with Pixel Spacing (or Imager Pixel Spacing) uses it everywhere. An ultrasound image
has none: its Sequence of Ultrasound Regions (PS3.3 C.8.5.5) calibrates each region on its
own, so the spacing depends on where the measurement is: the region holding all its points
(:func:`viewer.dicom.us_regions.region_spacing`), named in the result ("Ultrasound Region 1
(2D (tissue or flow), Physical Delta X/Y)"); across regions, outside them or in a region not
calibrated in cm the measurement stays in pixels and says why. No Qt here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from viewer.dicom.geometry import PixelSpacing
from viewer.dicom.us_regions import UltrasoundRegion, region_spacing, ultrasound_regions

if TYPE_CHECKING:
    from viewer.ui.viewport_loader import LoadedFrame

#: The regions of the last data sets asked about (by identity): measuring drags ask on every move.
_REGIONS: dict[int, tuple[object, tuple[UltrasoundRegion, ...]]] = {}


def _regions(item: LoadedFrame) -> tuple[UltrasoundRegion, ...]:
    ds = item.dataset
    hit = _REGIONS.get(id(ds))
    if hit is None or hit[0] is not ds:
        if len(_REGIONS) > 64:
            _REGIONS.clear()
        hit = _REGIONS[id(ds)] = (ds, ultrasound_regions(ds))
    return hit[1]


def measurement_spacing(item: LoadedFrame | None,
                        points: Sequence[tuple[float, float]]) -> tuple[PixelSpacing | None, str]:
    """The pixel size for a measurement through ``points`` (image coordinates: pixel centres
    at +0.5), and when there is none, why ("" when the image simply has no calibration)."""
    if item is None:
        return None, ""
    if item.spacing is not None:
        return item.spacing, ""
    regions = _regions(item)
    if not regions:
        return None, ""
    # Regions are bounded by pixel indices (centres at integers), image coordinates are not.
    return region_spacing(regions, [(x - 0.5, y - 0.5) for x, y in points])
