"""What to change when a printer refuses a request, so the job can go on in the same association.

PS3.4 H.4 lets the SCU send N-CREATE and N-SET again after a failure: a refused Film
Session, Film Box or Image Box leaves the rest of the film session as it was. Printers
rarely say which attribute they refuse (DCMTK's dcmprscp sends 0x0106 without an
Attribute Identifier List), so :class:`Adaptation` tries the changes known to help, one
at a time, most specific first:

* Film Box refused with 0x0105 (no such attribute): the Presentation LUT is referenced
  from the Film Session instead (CP-173: some printers, e.g. Agfa's, want it there), then
  not at all;
* Film Box refused with 0x0106 (invalid value): the printer's default film size, then its
  defaults for the other optional attributes, then both, then the layout ``STANDARD\\1,1``
  (which every printer takes), alone and with both, then the Presentation LUT moves as
  above (each change alone first, so that only what the printer needs is changed);
* Image Box refused: 8 instead of 12 bits (PS3.4 H.4.1.1.2 leaves 12 bit optional), square
  pixels instead of a Pixel Aspect Ratio, no Requested Image Size / Decimate-Crop Behavior;
* Film Session refused: the printer's defaults for the optional attributes, the
  Presentation LUT referenced from the Film Box instead.

Each change is described in :attr:`Adaptation.adapted` and the printer-profile fields it
teaches in :attr:`Adaptation.learned` (saved with the profile by the caller).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from viewer.errors import PrintError
from viewer.film.profile import PrinterProfile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec

#: Status codes a change of attributes may cure (PS3.7 C: no such attribute, invalid attribute value).
ADAPTABLE = (0x0105, 0x0106)

#: Optional Film Box attributes (PS3.3 C.13.3) by tag: the spec field left out on refusal.
_BOX_FIELDS = {0x20100050: ("film_size", "film size"), 0x20100060: ("magnification", "magnification type"),
               0x20100080: ("smoothing", "smoothing type"), 0x20100100: ("border_density", "border density"),
               0x20100110: ("empty_image_density", "empty image density"),
               0x20100120: ("min_density", "min density"), 0x20100130: ("max_density", "max density"),
               0x20100140: ("trim", "trim"), 0x20100150: ("configuration_information", "configuration information"),
               0x20200050: ("resolution_id", "resolution ID"),
               0x20100030: ("annotation_display_format_id", "annotation display format"),
               0x2010015E: ("illumination", "illumination"), 0x20100160: ("reflected_ambient_light",
                                                                         "reflected ambient light")}
#: Optional Film Session attributes (PS3.3 C.13.1).
_SESSION_FIELDS = {0x20000030: ("medium_type", "medium type"), 0x20000040: ("film_destination", "film destination"),
                   0x20000050: ("label", "film session label"), 0x20000060: ("memory_allocation",
                                                                            "memory allocation"),
                   0x20000020: ("priority", "print priority"), 0x21000160: ("owner_id", "owner ID")}
_REF_PLUT = 0x20500500
_IMAGE_PIXEL = {0x00280100, 0x00280101, 0x00280102, 0x20200110}  # bits allocated/stored, high bit, the sequence
_PAR = 0x00280034
_SIZE = {0x20200030, 0x20200040}

#: the profile's key for each optional box/session field whose value the printer refused
_PROFILE_LISTS = {"film_size": "film_sizes", "magnification": "magnification_types", "smoothing": "smoothing_types",
                  "border_density": "border_densities", "empty_image_density": "empty_image_densities",
                  "configuration_information": "configuration_information", "resolution_id": "resolution_ids",
                  "medium_type": "medium_types", "film_destination": "film_destinations"}


def _code(exc: PrintError) -> int:
    return int(exc.status or 0)


class Adaptation:
    """The changes made so far to fit one printer, and the next one to try.

    Parameters
    ----------
    profile : PrinterProfile
        What is known of the printer (its name goes into the messages).
    enabled : bool
        False: nothing is changed, every refusal ends the job (``print --no-adapt``).
    """

    def __init__(self, profile: PrinterProfile, enabled: bool = True) -> None:
        self.profile = profile
        self.enabled = enabled
        self.adapted: list[str] = []
        self.learned: dict[str, Any] = {}
        #: where the Presentation LUT is referenced: "film_box", "film_session" or None (not at all)
        self.plut_level: str | None = None
        self.layout: str | None = None
        self.box_drops: set[str] = set()
        self.session_drops: set[str] = set()
        self.bits8 = False
        self.square = False
        self.no_size = False
        self._box_tries: list[str] | None = None
        self._image_tries: list[str] | None = None
        self._session_tries: list[str] | None = None
        #: film box attributes left out in the try under way: field -> (profile key, message, value)
        self._pending: dict[str, tuple[str, str, Any]] = {}

    # ------------------------------------------------------------------ messages
    def note(self, key: str, message: str, value: Any = None) -> None:
        """Record a change (once) and what it teaches about the printer."""
        if message not in self.adapted:
            self.adapted.append(message)
        if value is not None or key in ("presentation_lut",):
            self.learned[key] = value

    def _why(self, exc: PrintError) -> str:
        return f"0x{_code(exc):04X}"

    # ------------------------------------------------------------------ film session
    def session(self, spec: FilmSessionSpec) -> FilmSessionSpec:
        if not self.session_drops:
            return spec
        drops: dict[str, Any] = {f: None for f in self.session_drops}
        return dataclasses.replace(spec, **drops)

    def session_refused(self, exc: PrintError, spec: FilmSessionSpec, offending: list[int]) -> bool:
        """Change something for the next N-CREATE Film Session; False: give up."""
        if not self.enabled or _code(exc) not in ADAPTABLE:
            return False
        named = [_SESSION_FIELDS[t] for t in offending if t in _SESSION_FIELDS and getattr(spec, _SESSION_FIELDS[t][0])
                 is not None]
        if _REF_PLUT in offending and self.plut_level == "film_session":
            self.plut_level = "film_box"
            self.note("presentation_lut", f"printer {self.profile.name} refused the Presentation LUT in the film "
                                          f"session ({self._why(exc)}): referenced from the film box", "film_box")
            return True
        if named:
            for field, what in named:
                self._drop_session(field, what, spec, exc)
            return True
        if self._session_tries is None:
            self._session_tries = ["optional"] + (["plut"] if self.plut_level == "film_session" else [])
        while self._session_tries:
            action = self._session_tries.pop(0)
            if action == "optional":
                fields = [(f, w) for f, w in _SESSION_FIELDS.values() if getattr(spec, f) is not None]
                if not fields:
                    continue
                for field, what in fields:
                    self._drop_session(field, what, spec, exc)
                return True
            if action == "plut":
                self.plut_level = "film_box"
                self.note("presentation_lut", f"printer {self.profile.name} refused the film session "
                                              f"({self._why(exc)}): Presentation LUT referenced from the film box",
                          "film_box")
                return True
        return False

    def _drop_session(self, field: str, what: str, spec: FilmSessionSpec, exc: PrintError) -> None:
        self.session_drops.add(field)
        key = _PROFILE_LISTS.get(field)
        self.note(key or field, f"printer {self.profile.name} refused {what} {getattr(spec, field)!s} "
                                f"({self._why(exc)}): the printer's default used", [] if key else None)

    # ------------------------------------------------------------------ film box
    def box(self, spec: FilmBoxSpec) -> FilmBoxSpec:
        """``spec`` with the changes made so far (attributes left to the printer's default)."""
        if not self.box_drops:
            return spec
        drops: dict[str, Any] = {f: None for f in self.box_drops}
        return dataclasses.replace(spec, **drops)

    def film_box_refused(self, exc: PrintError, spec: FilmBoxSpec, offending: list[int]) -> str | None:
        """The change to make before the next N-CREATE Film Box.

        Returns ``"retry"`` (attributes dropped: :meth:`box` applies them), ``"plut_to_session"``
        (create the film session again, referencing the Presentation LUT), ``"layout"``
        (lay the remaining images out in :attr:`layout`), or None: give up.
        """
        if not self.enabled or _code(exc) not in ADAPTABLE:
            return None
        if offending:
            named = [t for t in offending if t in _BOX_FIELDS and getattr(spec, _BOX_FIELDS[t][0]) is not None]
            if named:
                for t in named:
                    self._drop_box(*_BOX_FIELDS[t], spec, exc)
                return "retry"
            if _REF_PLUT in offending and self.plut_level == "film_box":
                return self._plut_elsewhere(exc)
            if 0x20100010 in offending:
                return self._layout(spec, exc)
        if self._box_tries is None:
            # Each change alone first (so that only what the printer needs is changed), then together.
            plut = ["plut_session", "plut_none"] if self.plut_level == "film_box" else []
            values = ["film_size", "optional", "values", "layout", "all"]
            self._box_tries = plut + values if _code(exc) == 0x0105 else values + plut
        optional = [(f, w) for f, w in _BOX_FIELDS.values() if f != "film_size" and getattr(spec, f) is not None]
        while self._box_tries:
            action = self._box_tries.pop(0)
            if action == "film_size" and spec.film_size is not None:
                self._undo_box()
                self._drop_box("film_size", "film size", spec, exc)
                return "retry"
            if action == "optional" and optional:
                self._undo_box()
                for field, what in optional:
                    self._drop_box(field, what, spec, exc)
                return "retry"
            if action == "values" and spec.film_size is not None and optional:
                self._undo_box()
                for field, what in [("film_size", "film size")] + optional:
                    self._drop_box(field, what, spec, exc)
                return "retry"
            if action == "layout" and spec.display_format.upper() != "STANDARD\\1,1":
                self._undo_box()
                return self._layout(spec, exc)
            if action == "all" and (spec.film_size is not None or optional) and self.layout is not None:
                self._undo_box()
                for field, what in ([("film_size", "film size")] if spec.film_size is not None else []) + optional:
                    self._drop_box(field, what, spec, exc)
                return "retry"
            if action == "plut_session" and self.plut_level == "film_box":
                return self._plut_elsewhere(exc)
            if action == "plut_none" and self.plut_level is not None:
                self.plut_level = None
                self.note("presentation_lut", f"printer {self.profile.name} refused the film box with a Presentation "
                                              f"LUT ({self._why(exc)}): printed without Presentation LUT")
                return "retry"
        return None

    def film_box_accepted(self) -> None:
        """The last N-CREATE Film Box succeeded: the attributes left out are reported and learnt."""
        for key, message, value in self._pending.values():
            self.note(key, message, value)
        self._pending.clear()

    def _undo_box(self) -> None:
        self.box_drops.clear()
        self._pending.clear()

    def _plut_elsewhere(self, exc: PrintError) -> str:
        self.plut_level = "film_session"
        self.note("presentation_lut", f"printer {self.profile.name} refused the Presentation LUT in the film box "
                                      f"({self._why(exc)}): referenced from the film session instead",
                  "film_session")
        return "plut_to_session"

    def _layout(self, spec: FilmBoxSpec, exc: PrintError) -> str:
        self.layout = "STANDARD\\1,1"
        self.note("display_formats", f"printer {self.profile.name} refused layout {spec.display_format} "
                                     f"({self._why(exc)}): printing one image per film (STANDARD\\1,1)", ["1,1"])
        return "layout"

    def _drop_box(self, field: str, what: str, spec: FilmBoxSpec, exc: PrintError) -> None:
        self.box_drops.add(field)
        key = _PROFILE_LISTS.get(field)
        self._pending[field] = (key or field, f"printer {self.profile.name} refused {what} {getattr(spec, field)!s} "
                                              f"({self._why(exc)}): the printer's default used", [] if key else None)

    # ------------------------------------------------------------------ image box
    def image(self, img: ImageBoxSpec) -> ImageBoxSpec:
        """``img`` with the changes made so far (8 bit, square pixels, no requested size)."""
        changes: dict[str, Any] = {}
        px = img.pixels
        if self.bits8 and img.bits == 12:
            px = ((px.astype(np.uint32) * 255 + 2047) // 4095).astype(np.uint8)
            changes["bits"] = 8
        if self.square and img.pixel_aspect_ratio:
            from viewer.film.view import square_pixels

            px = square_pixels(px, img.pixel_aspect_ratio)
            changes["pixel_aspect_ratio"] = None
        if self.no_size and (img.requested_size_mm or img.decimate_crop):
            changes["requested_size_mm"] = None
            changes["decimate_crop"] = None
        if px is not img.pixels:
            changes["pixels"] = px
        return dataclasses.replace(img, **changes) if changes else img

    def image_refused(self, exc: PrintError, img: ImageBoxSpec, offending: list[int]) -> bool:
        """Change something for the next N-SET Image Box; False: give up."""
        if not self.enabled or _code(exc) not in ADAPTABLE:
            return False
        tries = []
        if offending:
            if _PAR in offending and img.pixel_aspect_ratio:
                tries.append("square")
            if _SIZE & set(offending) and (img.requested_size_mm or img.decimate_crop):
                tries.append("size")
            if _IMAGE_PIXEL & set(offending) and img.bits == 12:
                tries.append("bits")
        if not tries:
            tries = ["bits", "square", "size"]
        for action in tries:
            if action == "bits" and img.bits == 12 and not self.bits8:
                self.bits8 = True
                self.note("supports_12_bit", f"printer {self.profile.name} refused a 12-bit image box "
                                             f"({self._why(exc)}): printing at 8 bit", False)
                return True
            if action == "square" and img.pixel_aspect_ratio and not self.square:
                self.square = True
                self.note("supports_pixel_aspect_ratio", f"printer {self.profile.name} refused Pixel Aspect Ratio "
                                                         f"({self._why(exc)}): pixels resampled to square", False)
                return True
            if action == "size" and (img.requested_size_mm or img.decimate_crop) and not self.no_size:
                self.no_size = True
                self.note("supports_requested_image_size", f"printer {self.profile.name} refused Requested Image "
                                                           f"Size ({self._why(exc)}): images fill their boxes", False)
                return True
        return False
