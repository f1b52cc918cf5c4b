""""Test printer": what a DICOM printer accepts, learnt without printing anything, as a profile.

Steps (each reported as a line):

1. C-ECHO (PS3.4 A);
2. capability probe: which print SOP classes the printer accepts (Basic Grayscale / Color
   Print Management Meta, Presentation LUT, Print Job, Basic Annotation Box; PS3.4 H.2);
3. N-GET Printer (PS3.4 H.4.6): status, name, manufacturer and model;
4. N-CREATE Film Session, then film boxes in that session that are deleted again, never
   printed (no N-ACTION, PS3.4 H.4.2.2): each layout and film size on offer, the
   Presentation LUT at film box or film session level, a 12-bit image box, an image box
   with Pixel Aspect Ratio and Requested Image Size, the Annotation Display Format IDs;
   then N-DELETE Film Session.

The result is a :class:`~viewer.film.profile.PrinterProfile` with what was found; values
the printer refused are left out of its lists.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from pydicom.dataset import Dataset

from viewer.cancel import CancelToken
from viewer.config import DimseNode, Timeouts, TlsOptions
from viewer.errors import NetError, PrintError
from viewer.film import uids
from viewer.film.attributes import film_box_dataset, film_session_dataset, image_box_dataset, presentation_lut_dataset
from viewer.film.enums import FILM_SIZES_MM, PresentationLUTShape
from viewer.film.profile import PrinterProfile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec
from viewer.net.print_scu import PrintAssociation, PrinterAddress

log = logging.getLogger(__name__)

#: Layouts tried (PS3.3 C.13.8 STANDARD\C,R, as DCMTK's printers.cfg lists them).
LAYOUTS = ("1,1", "1,2", "2,1", "2,2", "2,3", "3,2", "3,3", "3,4", "4,3", "3,5", "4,4", "4,5", "5,4", "5,5", "6,6")
#: Annotation Display Format IDs tried (printer specific values found in the field).
ANNOTATION_FORMATS = ("ANNOTATION", "LABEL", "TOP", "BOTTOM", "TOP_BOTTOM", "1", "2", "4", "6")


@dataclass
class ProbeResult:
    """What "Test printer" found: the profile and the report lines."""

    profile: PrinterProfile
    lines: list[str] = field(default_factory=list)
    ok: bool = False


def _node(profile: PrinterProfile, timeout: float) -> DimseNode:
    tls = profile.tls_options()
    return DimseNode(profile.name, profile.ae_title, profile.host, profile.port, Timeouts.uniform(timeout),
                     tls if isinstance(tls, TlsOptions) else None)


def probe_printer(profile: PrinterProfile, *, cancel: CancelToken | None = None, timeout: float = 10.0,
                  progress: Callable[[str], None] | None = None) -> ProbeResult:
    """Test the printer of ``profile`` (address and AE titles used) and fill a profile from it.

    Never raises for what the printer refuses; an unreachable printer gives ``ok`` False
    and says why in the lines.
    """
    from viewer.net.echo import echo
    from viewer.net.probe import probe

    result = ProbeResult(profile)
    say = result.lines.append

    def step(text: str) -> None:
        say(text)
        log.info("test printer: %s", text)
        if progress is not None:
            progress(text)

    node = _node(profile, timeout)
    try:
        e = echo(node, profile.calling_ae_title, cancel)
        step(f"C-ECHO: success ({e.rtt * 1000:.0f} ms)")
    except NetError as exc:
        step(f"C-ECHO failed: {exc}")
    try:
        contexts = probe(node, profile.calling_ae_title, token=cancel)
    except NetError as exc:
        step(f"cannot associate: {exc}")
        return result
    accepted = {c.abstract_syntax for c in contexts if c.accepted}
    for c in contexts:
        if c.abstract_syntax in (uids.GRAYSCALE_META, uids.COLOR_META, uids.PRESENTATION_LUT, uids.PRINT_JOB,
                                 uids.ANNOTATION_BOX):
            step(c.line())
    if not {uids.GRAYSCALE_META, uids.COLOR_META} & accepted:
        step("the printer accepts no print meta SOP class: not a DICOM printer for us")
        return result
    found = dataclasses.replace(profile, grayscale=uids.GRAYSCALE_META in accepted,
                                color=uids.COLOR_META in accepted,
                                presentation_lut="film_box" if uids.PRESENTATION_LUT in accepted else None,
                                annotation_display_formats=[] if uids.ANNOTATION_BOX not in accepted else None)
    address = PrinterAddress(profile.host, profile.port, profile.ae_title, profile.calling_ae_title, timeout=timeout,
                             max_pdu=profile.max_pdu, implicit_only=profile.implicit_vr_only,
                             tls=profile.tls_options())
    scu = PrintAssociation(address, grayscale=found.grayscale, color=found.color and not found.grayscale,
                           presentation_lut=found.presentation_lut is not None,
                           annotation=uids.ANNOTATION_BOX in accepted, cancel=cancel)
    try:
        scu.open()
    except PrintError as exc:
        step(f"cannot associate for printing: {exc}")
        return result
    try:
        found = _explore(scu, found, step)
        result.ok = True
    except PrintError as exc:
        step(f"stopped: {exc}")
    finally:
        scu.release()
    result.profile = found
    return result


def _explore(scu: PrintAssociation, found: PrinterProfile, step: Callable[[str], None]) -> PrinterProfile:
    printer = scu.get_printer([])
    status = str(printer.get("PrinterStatus", "") or "?")
    info = str(printer.get("PrinterStatusInfo", "") or "")
    what = " ".join(str(printer.get(k, "") or "") for k in ("Manufacturer", "ManufacturerModelName")).strip()
    name = str(printer.get("PrinterName", "") or "")
    step(f"N-GET Printer: status {status}" + (f" ({info})" if info else "") + (f", {name}" if name else "")
         + (f", {what}" if what else ""))
    if what or name:
        found = dataclasses.replace(found, description=", ".join(x for x in (name, what) if x))
    plut_uid = None
    if found.presentation_lut is not None:
        plut_uid, _ = scu.create("N-CREATE Presentation LUT", uids.PRESENTATION_LUT,
                                 presentation_lut_dataset(PresentationLUTShape.IDENTITY), on_meta=False)
    fs_uid, _ = scu.create("N-CREATE Film Session", uids.FILM_SESSION, film_session_dataset(FilmSessionSpec()))
    step("N-CREATE Film Session: accepted")
    try:
        level = None
        if plut_uid:
            # Presentation LUT: referenced from the film box, else from the film session (CP-173).
            # Some printers hold one film session per association: the session is made again.
            got = _try_box(scu, "Presentation LUT in the film box", FilmBoxSpec(film_size=None), fs_uid, plut_uid)
            if got is not None:
                level = "film_box"
                scu.delete("N-DELETE Film Box", uids.FILM_BOX, got[0])
            else:
                scu.delete("N-DELETE Film Session", uids.FILM_SESSION, fs_uid)
                fs_uid, _ = scu.create("N-CREATE Film Session (Presentation LUT)", uids.FILM_SESSION,
                                       film_session_dataset(FilmSessionSpec(), plut_uid))
                got = _try_box(scu, "Presentation LUT in the film session", FilmBoxSpec(film_size=None), fs_uid, None)
                if got is not None:
                    level = "film_session"
                    scu.delete("N-DELETE Film Box", uids.FILM_BOX, got[0])
            step(f"Presentation LUT: referenced from the {level.replace('_', ' ')}" if level else
                 "Presentation LUT: refused in the film box and in the film session")
        found = dataclasses.replace(found, presentation_lut=level)
        found = _film_boxes(scu, found, fs_uid, plut_uid if level == "film_box" else None, step)
    finally:
        scu.delete("N-DELETE Film Session", uids.FILM_SESSION, fs_uid)
        step("N-DELETE Film Session: nothing was printed")
        if plut_uid:
            scu.delete("N-DELETE Presentation LUT", uids.PRESENTATION_LUT, plut_uid, on_meta=False)
    return found


def _try_box(scu: PrintAssociation, what: str, spec: FilmBoxSpec, fs_uid: str,
             plut_uid: str | None) -> tuple[str, Dataset] | None:
    """N-CREATE a film box and return (uid, response), or None when refused."""
    try:
        return scu.create(f"N-CREATE Film Box ({what})", uids.FILM_BOX, film_box_dataset(spec, fs_uid, plut_uid))
    except PrintError as exc:
        if exc.status in (0x0105, 0x0106, 0x0120) or (exc.status or 0) & 0xF000 == 0xC000:
            return None
        raise


def _film_boxes(scu: PrintAssociation, found: PrinterProfile, fs_uid: str, box_lut: str | None,
                step: Callable[[str], None]) -> PrinterProfile:
    delete = scu.delete
    layouts = [lay for lay in LAYOUTS if _accepts(scu, FilmBoxSpec(display_format=f"STANDARD\\{lay}", film_size=None),
                                                  fs_uid, box_lut)]
    step("layouts: " + (", ".join(layouts) or "none of " + ", ".join(LAYOUTS)))
    sizes = [s for s in FILM_SIZES_MM if _accepts(scu, FilmBoxSpec(film_size=s), fs_uid, box_lut)]
    step("film sizes: " + (", ".join(sizes) or "none (the printer's default is used)"))
    found = dataclasses.replace(found, display_formats=layouts or ["1,1"], film_sizes=sizes or [])
    # Image boxes: 12 bit, Pixel Aspect Ratio, Requested Image Size, in a film box never printed.
    got = _try_box(scu, "image box tests", FilmBoxSpec(film_size=None), fs_uid, box_lut)
    if got is not None:
        fb_uid, rsp = got
        refs = list(rsp.get("ReferencedImageBoxSequence", []) or [])
        if refs:
            ref = refs[0]
            cls, inst = str(ref.get("ReferencedSOPClassUID", "") or uids.GRAYSCALE_IMAGE_BOX), \
                str(ref.ReferencedSOPInstanceUID)
            tiny = np.zeros((8, 8), np.uint16)
            checks = {"supports_12_bit": ImageBoxSpec(tiny, bits=12),
                      "supports_pixel_aspect_ratio": ImageBoxSpec(tiny.astype(np.uint8), pixel_aspect_ratio=(9, 8)),
                      "supports_requested_image_size": ImageBoxSpec(tiny.astype(np.uint8), requested_size_mm=50.0)}
            values: dict[str, Any] = {}
            for key, img in checks.items():
                try:
                    scu.set(f"N-SET Image Box ({key})", cls, inst, image_box_dataset(img, 1, color=False))
                    values[key] = True
                except PrintError:
                    values[key] = False
            step("image boxes: " + ", ".join(f"{k.removeprefix('supports_').replace('_', ' ')} "
                                             f"{'yes' if v else 'no'}" for k, v in values.items()))
            found = dataclasses.replace(found, supports_decimate_crop=values["supports_requested_image_size"],
                                        **values)
        delete("N-DELETE Film Box", uids.FILM_BOX, fb_uid)
    if found.annotation_display_formats is None:
        formats = []
        for fmt in ANNOTATION_FORMATS:
            got = _try_box(scu, f"annotation format {fmt}", FilmBoxSpec(film_size=None,
                                                                        annotation_display_format_id=fmt),
                           fs_uid, box_lut)
            if got is None:
                continue
            if got[1].get("ReferencedBasicAnnotationBoxSequence"):
                formats.append(fmt)
            delete("N-DELETE Film Box", uids.FILM_BOX, got[0])
        step("annotation display formats: " + (", ".join(formats) or "none"))
        found = dataclasses.replace(found, annotation_display_formats=formats)
    return found


def _accepts(scu: PrintAssociation, spec: FilmBoxSpec, fs_uid: str, plut_uid: str | None) -> bool:
    got = _try_box(scu, spec.display_format + (f" {spec.film_size}" if spec.film_size else ""), spec, fs_uid,
                   plut_uid)
    if got is None:
        return False
    scu.delete("N-DELETE Film Box", uids.FILM_BOX, got[0])
    return True


def probe_printer_dict(data: dict[str, Any], *, cancel: CancelToken | None = None,
                       timeout: float = 10.0) -> tuple[dict[str, Any], list[str], bool]:
    """:func:`probe_printer` for a profile given as a dict (the printer form): (found, lines, ok).

    Raises
    ------
    UsageError
        ``data`` is not a valid profile (the key is named).
    """
    result = probe_printer(PrinterProfile.from_dict(data), cancel=cancel, timeout=timeout)
    return result.profile.to_dict(), result.lines, result.ok
