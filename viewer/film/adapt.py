"""Fit a print job to a printer: its profile (conformance statement) and what it negotiated.

Values the printer's lists forbid are user errors, named with the allowed values, caught
before anything is sent (a printer would answer 0x0106 on the film box). Features the
printer lacks altogether (12 bit, Presentation LUT, annotation boxes, color, trim,
Requested Image Size, ...) are dropped with a warning instead, as PS3.4 H leaves them
optional: the client adapts with a visible warning instead of failing.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from viewer.errors import UsageError
from viewer.film.profile import PrinterProfile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, FilmSpec, ImageBoxSpec, PrintJobSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Negotiated:
    """Which SOP classes the printer accepted at association (PS3.4 H.2)."""

    grayscale: bool = True
    color: bool = False
    presentation_lut: bool = False
    print_job: bool = False
    annotation: bool = False


def effective_bits(requested: int, profile: PrinterProfile, warnings: list[str]) -> int:
    """8 or 12: the bit depth to render at, given what the printer supports."""
    if requested == 12 and not profile.supports_12_bit:
        warnings.append(f"printer {profile.name} accepts 8-bit images only: printing at 8 bit (fewer gray levels)")
        return 8
    return 12 if requested == 12 else 8


def _check(what: str, value: str | None, allowed: list[str] | None, warnings: list[str], printer: str) -> str | None:
    """Return ``value`` if allowed, None (with a warning) if the attribute is unsupported."""
    if value is None or allowed is None:
        return value
    if not allowed:
        warnings.append(f"printer {printer} does not support {what}: {value} not sent")
        return None
    if str(value).upper() not in {a.upper() for a in allowed}:
        raise UsageError(f"{what} {value!r} not supported by printer {printer}: one of {', '.join(allowed)}")
    return value


def check_session(spec: FilmSessionSpec, profile: PrinterProfile, warnings: list[str]) -> FilmSessionSpec:
    """Film session attributes checked against the profile (PS3.3 C.13.1)."""
    return dataclasses.replace(
        spec,
        medium_type=_check("medium type", spec.medium_type, profile.medium_types, warnings, profile.name),
        film_destination=_check("film destination", spec.film_destination, profile.film_destinations,
                                warnings, profile.name),
    )


def nearest_layout(wanted: str, formats: list[str]) -> str:
    """Of the printer's layouts, the one with the fewest boxes that still holds as many as
    ``wanted`` (else the one with the most boxes); ties keep the printer's order."""
    from viewer.film.layout import parse_display_format

    def count(f: str) -> int:
        try:
            return parse_display_format(f).box_count
        except UsageError:
            return 0

    need = count(wanted)
    usable = [f for f in formats if count(f) > 0]
    if not usable:
        return "STANDARD\\1,1"
    bigger = [f for f in usable if count(f) >= need]
    return min(bigger, key=count) if bigger else max(usable, key=count)


def check_film_box(spec: FilmBoxSpec, profile: PrinterProfile, warnings: list[str],
                   adapt: bool = False) -> FilmBoxSpec:
    """Film box attributes checked against the profile (PS3.3 C.13.3).

    With ``adapt``, a layout outside the printer's list becomes the nearest one it has
    (:func:`nearest_layout`) and a film size outside its list the printer's default (not
    sent), each with a warning.

    Raises
    ------
    UsageError
        For a display format, film size or other value outside the printer's lists.
    """
    name = profile.name
    formats = profile.allowed_display_formats(str(spec.orientation))
    if formats is not None and spec.display_format.upper() not in {f.upper() for f in formats}:
        if not adapt:
            raise UsageError(f"image display format {spec.display_format!r} ({spec.orientation}) not supported by "
                             f"printer {name}: one of {', '.join(formats)}")
        layout = nearest_layout(spec.display_format, formats)
        warnings.append(f"adapted: printer {name} has no layout {spec.display_format}: printing {layout}")
        spec = dataclasses.replace(spec, display_format=layout)
    if adapt and spec.film_size and profile.film_sizes and \
            spec.film_size.upper() not in {f.upper() for f in profile.film_sizes}:
        warnings.append(f"adapted: printer {name} has no film size {spec.film_size}: the printer's default used")
        spec = dataclasses.replace(spec, film_size=None)
    out = dataclasses.replace(
        spec,
        film_size=_check("film size", spec.film_size, profile.film_sizes, warnings, name),
        magnification=_check("magnification type", spec.magnification, profile.magnification_types, warnings, name),
        smoothing=_check("smoothing type", spec.smoothing, profile.smoothing_types, warnings, name),
        border_density=_check("border density", spec.border_density, profile.border_densities, warnings, name),
        empty_image_density=_check("empty image density", spec.empty_image_density,
                                   profile.empty_image_densities, warnings, name),
        resolution_id=_check("resolution ID", spec.resolution_id, profile.resolution_ids, warnings, name),
        configuration_information=_check("configuration information", spec.configuration_information,
                                         profile.configuration_information, warnings, name),
    )
    if out.trim and not profile.supports_trim:
        warnings.append(f"printer {name} does not support trim: not sent")
        out = dataclasses.replace(out, trim=None)
    # PS3.4 H.4 B605: a density outside the printer's range is replaced by its limit;
    # clamp here so the preview shows what will print.
    if out.max_density is not None and profile.max_density is not None and out.max_density > profile.max_density:
        warnings.append(f"max density {out.max_density} above printer {name}'s {profile.max_density}: "
                        f"using {profile.max_density}")
        out = dataclasses.replace(out, max_density=profile.max_density)
    if out.min_density is not None and profile.min_density is not None and out.min_density < profile.min_density:
        warnings.append(f"min density {out.min_density} below printer {name}'s {profile.min_density}: "
                        f"using {profile.min_density}")
        out = dataclasses.replace(out, min_density=profile.min_density)
    return out


def rgb_to_gray(pixels: np.ndarray) -> np.ndarray:
    """8-bit luma of an RGB image (ITU-R BT.601 weights, as YBR_FULL in PS3.3 C.7.6.3.1.2)."""
    rgb = pixels.astype(np.float32)
    y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    gray: np.ndarray = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    return gray


def _adapt_image(img: ImageBoxSpec | None, profile: PrinterProfile, gray_only: bool) -> ImageBoxSpec | None:
    if img is None:
        return None
    changes: dict[str, Any] = {}
    if gray_only and img.is_color:
        changes["pixels"] = rgb_to_gray(img.pixels)
        changes["bits"] = 8
    elif img.bits == 12 and not profile.supports_12_bit:
        # Same rounding as the 12-to-8 bit preview scaling.
        changes["pixels"] = ((img.pixels.astype(np.uint32) * 255 + 2047) // 4095).astype(np.uint8)
        changes["bits"] = 8
    if img.pixel_aspect_ratio and profile.supports_pixel_aspect_ratio is False:
        from viewer.film.view import square_pixels

        changes["pixels"] = square_pixels(changes.get("pixels", img.pixels), img.pixel_aspect_ratio)
        changes["pixel_aspect_ratio"] = None
    if img.requested_size_mm and not profile.supports_requested_image_size:
        changes["requested_size_mm"] = None
    if img.decimate_crop and not profile.supports_decimate_crop:
        changes["decimate_crop"] = None
    return dataclasses.replace(img, **changes) if changes else img


def adapt_job(job: PrintJobSpec, profile: PrinterProfile, negotiated: Negotiated | None = None,
              adapt: bool = False) -> tuple[PrintJobSpec, list[str]]:
    """The job as this printer can take it, and the warnings saying what changed.

    Without ``negotiated`` only the profile is applied (before associating); with it, the
    SOP classes the printer rejected at association are dropped too. With ``adapt``, a
    layout or film size the profile does not list is replaced (see :func:`check_film_box`);
    a new layout lays the images out again.
    """
    warnings: list[str] = []
    name = profile.name
    neg = negotiated
    gray_only = job.color and (not profile.color or (neg is not None and not neg.color))
    if gray_only:
        why = "rejected Basic Color Print" if neg is not None and profile.color else "is a grayscale printer"
        warnings.append(f"printer {name} {why}: color images printed in grayscale")
    plut = job.presentation_lut
    if plut is not None and (profile.presentation_lut is None or (neg is not None and not neg.presentation_lut)):
        warnings.append(f"printer {name} does not support the Presentation LUT: {plut} not sent")
        plut = None
    wants_ann = any(f.annotations for f in job.films)
    drop_ann = wants_ann and (profile.annotation_display_formats == [] or (neg is not None and not neg.annotation))
    if drop_ann:
        warnings.append(f"printer {name} does not support annotation boxes: annotations not printed")
    if job.bits == 12 and not profile.supports_12_bit:
        warnings.append(f"printer {name} accepts 8-bit images only: 12-bit images reduced to 8 bit")
    if any(img is not None and img.pixel_aspect_ratio for f in job.films for img in f.images) \
            and profile.supports_pixel_aspect_ratio is False:
        warnings.append(f"printer {name} does not support Pixel Aspect Ratio: non-square pixels resampled "
                        "to square ones")
    if any(img is not None and img.requested_size_mm for f in job.films for img in f.images) \
            and not profile.supports_requested_image_size:
        warnings.append(f"printer {name} does not support Requested Image Size: images fill their boxes")
    session = check_session(job.session, profile, warnings)
    films = []
    source = list(job.films)
    if adapt and source:
        said: list[str] = []
        first = check_film_box(source[0].box, profile, said, adapt=True)
        if first.display_format != source[0].box.display_format:
            warnings += [w for w in said if "has no layout" in w]
            from viewer.film.compose import paginate

            images = [img for f in source for img in f.images if img is not None]
            texts = dict(source[0].annotations)
            source = paginate(images, dataclasses.replace(source[0].box, display_format=first.display_format), texts)
    for film in source:
        box = check_film_box(film.box, profile, warnings, adapt=adapt)
        if drop_ann:
            box = dataclasses.replace(box, annotation_display_format_id=None)
        elif film.annotations and not box.annotation_display_format_id and profile.annotation_display_formats:
            box = dataclasses.replace(box, annotation_display_format_id=profile.annotation_display_formats[0])
        films.append(FilmSpec(box=box, images=[_adapt_image(i, profile, gray_only) for i in film.images],
                              annotations={} if drop_ann else dict(film.annotations)))
    # The same warning once per job, not once per film; the caller shows or logs them.
    unique = list(dict.fromkeys(warnings))
    return PrintJobSpec(session=session, films=films, presentation_lut=plut), unique
