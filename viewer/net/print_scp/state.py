"""State of the print SCP: the SOP instances one association has created (PS3.4 H.4).

A Film Session lives as long as its association (PS3.4 H.4.1: "The Film Session SOP
Instance shall be deleted when the association is released or aborted"); it owns its
Film Boxes, which own their Image Boxes and Annotation Boxes. Presentation LUTs belong to
the association too. Print Jobs outlive associations (they are looked up by UID).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataset import Dataset

FILM_SESSION = "1.2.840.10008.5.1.1.1"
FILM_BOX = "1.2.840.10008.5.1.1.2"
GRAY_IMAGE_BOX = "1.2.840.10008.5.1.1.4"
COLOR_IMAGE_BOX = "1.2.840.10008.5.1.1.4.1"
GRAY_META = "1.2.840.10008.5.1.1.9"
COLOR_META = "1.2.840.10008.5.1.1.18"
PRINT_JOB = "1.2.840.10008.5.1.1.14"
ANNOTATION_BOX = "1.2.840.10008.5.1.1.15"
PRINTER = "1.2.840.10008.5.1.1.16"
PRINTER_INSTANCE = "1.2.840.10008.5.1.1.17"  # well-known Printer SOP Instance, PS3.4 H.4.6
PRESENTATION_LUT = "1.2.840.10008.5.1.1.23"
VERIFICATION = "1.2.840.10008.1.1"

NAMES = {FILM_SESSION: "Film Session", FILM_BOX: "Film Box", GRAY_IMAGE_BOX: "Grayscale Image Box",
         COLOR_IMAGE_BOX: "Color Image Box", PRINT_JOB: "Print Job", ANNOTATION_BOX: "Annotation Box",
         PRINTER: "Printer", PRESENTATION_LUT: "Presentation LUT"}


@dataclass
class ImageBox:
    """An Image Box SOP instance: its position and, once N-SET, what was sent."""

    uid: str
    position: int
    data: Dataset | None = None


@dataclass
class AnnotationBox:
    """A Basic Annotation Box SOP instance."""

    uid: str
    position: int
    text: str = ""


@dataclass
class FilmBox:
    """A Basic Film Box SOP instance."""

    uid: str
    attrs: Dataset
    image_boxes: dict[str, ImageBox] = field(default_factory=dict)
    annotations: dict[str, AnnotationBox] = field(default_factory=dict)
    printed: bool = False

    def images_set(self) -> int:
        return sum(1 for b in self.image_boxes.values() if b.data is not None)


@dataclass
class FilmSession:
    """A Basic Film Session SOP instance, grayscale or color by the meta SOP class used."""

    uid: str
    attrs: Dataset
    color: bool
    film_boxes: dict[str, FilmBox] = field(default_factory=dict)


@dataclass
class AssociationState:
    """Everything one association created."""

    calling_ae: str
    peer: str
    session: FilmSession | None = None
    luts: dict[str, Dataset] = field(default_factory=dict)
    films_printed: int = 0

    def find_image_box(self, uid: str) -> tuple[FilmBox, ImageBox] | None:
        for film in (self.session.film_boxes.values() if self.session else ()):
            if uid in film.image_boxes:
                return film, film.image_boxes[uid]
        return None

    def find_annotation(self, uid: str) -> tuple[FilmBox, AnnotationBox] | None:
        for film in (self.session.film_boxes.values() if self.session else ()):
            if uid in film.annotations:
                return film, film.annotations[uid]
        return None


@dataclass
class PrintedFilm:
    """One film box handed to the renderer (shaped like ``viewer.film.output.ReceivedFilm``)."""

    film_box_uid: str
    film_box: Dataset
    image_boxes: dict[int, Dataset]
    annotations: dict[int, str]
    presentation_lut: Dataset | None
    image_luts: dict[int, Dataset]


@dataclass
class PrintRequest:
    """One N-ACTION print (shaped like ``viewer.film.output.ReceivedJob``)."""

    job_uid: str
    session_uid: str
    session: Dataset
    calling_ae: str
    films: list[PrintedFilm]
