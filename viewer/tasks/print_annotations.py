"""Film annotations on the wire or, for a printer without annotation boxes, elsewhere.

Basic Annotation Boxes (PS3.3 C.13.7) are N-SET when the printer made them; when it made
none, Annotation Display Format IDs are tried in turn; when the SOP class is refused, the
texts become the Film Session Label or are burnt into each film's first image.
"""

from __future__ import annotations

import dataclasses

from pydicom.dataset import Dataset

from viewer.errors import PrintError
from viewer.film import uids
from viewer.film.attributes import annotation_box_dataset, film_box_dataset
from viewer.film.refusals import Adaptation
from viewer.film.spec import FilmBoxSpec, FilmSpec, ImageBoxSpec, PrintJobSpec
from viewer.film.view import resample_linear
from viewer.net.print_scu import ANNOTATION_BOX, PrintAssociation
from viewer.tasks.print_render import FILM_PIXELS
from viewer.tasks.print_report import PrintReport


#: Annotation Display Format IDs tried, in order, when the printer created no annotation
#: boxes for a film box without one (PS3.3 C.13.3: the values are printer specific; these
#: are the ones of DCMTK's printer emulations and our own virtual printer).
ANNOTATION_FORMATS = ("ANNOTATION", "LABEL", "TOP", "BOTTOM", "TOP_BOTTOM", "1", "2", "4", "6")


def annotation_format(scu: PrintAssociation, ad: Adaptation, box: FilmBoxSpec, fs_uid: str,
                       plut_uid: str | None, fb_uid: str, rsp: Dataset, tag: str,
                       created: list[tuple[str, str, str, bool]], needed: int) -> tuple[str, Dataset, list[Dataset]]:
    """A film box with annotation boxes: recreated with the Annotation Display Format IDs in turn.

    Only when the Basic Annotation Box SOP class was accepted and no format was asked for.
    Returns the film box (the old one, or a new one) and its annotation box references.
    """
    if ANNOTATION_BOX not in scu.accepted or box.annotation_display_format_id:
        return fb_uid, rsp, []
    plut = plut_uid if ad.plut_level == "film_box" else None
    candidates = [ad.learned.get("annotation_display_formats", [None])[0]] if "annotation_display_formats" in \
        ad.learned else list(ANNOTATION_FORMATS)
    for fmt in candidates:
        if not fmt:
            continue
        try:
            uid, new = scu.create(f"N-CREATE Film Box ({tag}, annotation format {fmt})", uids.FILM_BOX,
                                  film_box_dataset(dataclasses.replace(box, annotation_display_format_id=fmt),
                                                   fs_uid, plut))
        except PrintError:
            continue
        refs = list(new.get("ReferencedBasicAnnotationBoxSequence", []) or [])
        if refs:
            created.remove((f"N-DELETE Film Box ({tag})", uids.FILM_BOX, fb_uid, True))
            scu.delete(f"N-DELETE Film Box ({tag}, no annotation boxes)", uids.FILM_BOX, fb_uid)
            created.append((f"N-DELETE Film Box ({tag})", uids.FILM_BOX, uid, True))
            ad.note("annotation_display_formats", f"annotation display format {fmt} chosen: the printer created "
                                                  f"{len(refs)} annotation boxes for it", [fmt])
            return uid, new, refs
        scu.delete(f"N-DELETE Film Box ({tag}, annotation format {fmt})", uids.FILM_BOX, uid)
    return fb_uid, rsp, []


def burn_annotations(images: list[ImageBoxSpec | None], texts: dict[int, str]) -> list[ImageBoxSpec | None]:
    """Annotation texts burnt into the first image of the film, at film resolution."""
    from viewer.film.burnin import burn_in as _burn

    out = list(images)
    for k, img in enumerate(out):
        if img is None:
            continue
        px = img.pixels
        if img.pixel_aspect_ratio:
            from viewer.film.view import square_pixels

            px = square_pixels(px, img.pixel_aspect_ratio)
        rows, cols = px.shape[:2]
        scale = max(1.0, FILM_PIXELS / max(rows, cols))
        px = resample_linear(px, round(rows * scale), round(cols * scale))
        lines = [t for _, t in sorted(texts.items()) if t.strip()]
        out[k] = dataclasses.replace(img, pixels=_burn(px, img.bits, lines[:3], lines[3:]), pixel_aspect_ratio=None)
        break
    return out


def annotations_elsewhere(job: PrintJobSpec, report: PrintReport, why: str) -> PrintJobSpec:
    """Annotations for a printer without annotation boxes: the Film Session Label when that is
    free and every film has the same texts; else burnt into each film's first image."""
    texts = [tuple(sorted(f.annotations.items())) for f in job.films]
    label = " / ".join(t for _, t in texts[0] if t.strip())[:64] if texts else ""
    if label and not job.session.label and len(set(texts)) == 1:
        report.adapted.append(f"printer {why}: annotation text sent as the Film Session Label ({label!r})")
        session = dataclasses.replace(job.session, label=label)
        return PrintJobSpec(session, [_no_annotation_boxes(f) for f in job.films],
                            presentation_lut=job.presentation_lut)
    report.adapted.append(f"printer {why}: annotation text burnt into the images at film resolution")
    films = [dataclasses.replace(_no_annotation_boxes(f), images=burn_annotations(list(f.images), f.annotations))
             for f in job.films]
    return PrintJobSpec(job.session, films, presentation_lut=job.presentation_lut)


def _no_annotation_boxes(film: FilmSpec) -> FilmSpec:
    """The film without annotation texts nor an Annotation Display Format ID asking for boxes."""
    return dataclasses.replace(film, annotations={},
                               box=dataclasses.replace(film.box, annotation_display_format_id=None))



def set_annotations(scu: PrintAssociation, texts: dict[int, str], rsp: Dataset, tag: str) -> None:
    """N-SET each Basic Annotation Box the film box response listed (PS3.3 C.13.7)."""
    if not texts:
        return
    refs = list(rsp.get("ReferencedBasicAnnotationBoxSequence", []) or [])
    if not refs:
        scu.warnings.append(f"{tag}: printer created no annotation boxes; annotations not printed")
        return
    for pos, text in sorted(texts.items()):
        if not 1 <= pos <= len(refs):
            scu.warnings.append(f"{tag}: annotation position {pos} not on this film (1..{len(refs)})")
            continue
        ref = refs[pos - 1]
        scu.set(f"N-SET Annotation Box {pos} ({tag})", str(ref.get("ReferencedSOPClassUID", "") or uids.ANNOTATION_BOX),
                str(ref.ReferencedSOPInstanceUID), annotation_box_dataset(pos, text), on_meta=False)
