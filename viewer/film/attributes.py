"""Datasets for the N-CREATE and N-SET requests of a print job (PS3.4 H.4, PS3.3 C.13).

Pure functions from the film model (:mod:`viewer.film.spec`) to pydicom Datasets; nothing
here talks to the network.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from viewer.film import uids
from viewer.film.enums import PresentationLUTShape
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec


def _ref(class_uid: str, instance_uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = class_uid
    item.ReferencedSOPInstanceUID = instance_uid
    return item


def film_session_dataset(spec: FilmSessionSpec, presentation_lut_uid: str | None = None) -> Dataset:
    """N-CREATE Basic Film Session attributes (PS3.3 C.13.1).

    ``presentation_lut_uid`` goes into the session for printers that want the Referenced
    Presentation LUT Sequence at film session level (CP-173; the AGFA Drystar emulation).
    """
    ds = Dataset()
    ds.NumberOfCopies = int(spec.copies)
    if spec.priority is not None:
        ds.PrintPriority = str(spec.priority)
    if spec.medium_type:
        ds.MediumType = spec.medium_type
    if spec.film_destination:
        ds.FilmDestination = spec.film_destination
    if spec.label:
        ds.FilmSessionLabel = spec.label
    if spec.memory_allocation is not None:
        ds.MemoryAllocation = int(spec.memory_allocation)
    if spec.owner_id:
        ds.OwnerID = spec.owner_id
    if presentation_lut_uid:
        ds.ReferencedPresentationLUTSequence = [_ref(uids.PRESENTATION_LUT, presentation_lut_uid)]
    return ds


def film_box_dataset(spec: FilmBoxSpec, film_session_uid: str, presentation_lut_uid: str | None = None) -> Dataset:
    """N-CREATE Basic Film Box attributes (PS3.3 C.13.3), with the mandatory Referenced Film
    Session Sequence (2010,0500) and, when given, the Referenced Presentation LUT Sequence."""
    ds = Dataset()
    ds.ImageDisplayFormat = spec.display_format
    if spec.annotation_display_format_id:
        ds.AnnotationDisplayFormatID = spec.annotation_display_format_id
    ds.FilmOrientation = str(spec.orientation)
    if spec.film_size:
        ds.FilmSizeID = spec.film_size
    if spec.magnification:
        ds.MagnificationType = spec.magnification
    if spec.smoothing:
        ds.SmoothingType = spec.smoothing
    if spec.border_density:
        ds.BorderDensity = str(spec.border_density)
    if spec.empty_image_density:
        ds.EmptyImageDensity = str(spec.empty_image_density)
    if spec.min_density is not None:
        ds.MinDensity = int(spec.min_density)
    if spec.max_density is not None:
        ds.MaxDensity = int(spec.max_density)
    if spec.trim:
        ds.Trim = spec.trim
    if spec.configuration_information:
        ds.ConfigurationInformation = spec.configuration_information
    if spec.illumination is not None:
        ds.Illumination = int(spec.illumination)
    if spec.reflected_ambient_light is not None:
        ds.ReflectedAmbientLight = int(spec.reflected_ambient_light)
    if spec.resolution_id:
        ds.RequestedResolutionID = spec.resolution_id
    ds.ReferencedFilmSessionSequence = [_ref(uids.FILM_SESSION, film_session_uid)]
    if presentation_lut_uid:
        ds.ReferencedPresentationLUTSequence = [_ref(uids.PRESENTATION_LUT, presentation_lut_uid)]
    return ds


def image_pixel_item(image: ImageBoxSpec, planar_configuration: int = 1) -> Dataset:
    """The one item of Basic Grayscale (2020,0110) or Basic Color (2020,0111) Image Sequence.

    PS3.3 C.13.5.1: grayscale is MONOCHROME1/2, unsigned, Bits Allocated 8 / Stored 8 or
    Allocated 16 / Stored 12; color is RGB, 8 bit, Planar Configuration 1 (color-by-plane).
    """
    px = np.asarray(image.pixels)
    item = Dataset()
    item.Rows, item.Columns = int(px.shape[0]), int(px.shape[1])
    item.PixelRepresentation = 0
    if image.pixel_aspect_ratio and image.pixel_aspect_ratio[0] != image.pixel_aspect_ratio[1]:
        item.PixelAspectRatio = [int(v) for v in image.pixel_aspect_ratio]
    if px.ndim == 3:
        item.SamplesPerPixel = 3
        item.PhotometricInterpretation = "RGB"
        item.PlanarConfiguration = int(planar_configuration)
        item.BitsAllocated = item.BitsStored = 8
        item.HighBit = 7
        rgb = px.astype(np.uint8, copy=False)
        data = np.moveaxis(rgb, 2, 0) if planar_configuration == 1 else rgb
        item.PixelData = np.ascontiguousarray(data).tobytes()
        return item
    item.SamplesPerPixel = 1
    item.PhotometricInterpretation = "MONOCHROME2"
    if image.bits == 12:
        item.BitsAllocated, item.BitsStored, item.HighBit = 16, 12, 11
        item.PixelData = np.ascontiguousarray(np.clip(px, 0, 4095).astype("<u2")).tobytes()
    else:
        item.BitsAllocated, item.BitsStored, item.HighBit = 8, 8, 7
        item.PixelData = np.ascontiguousarray(px.astype(np.uint8, copy=False)).tobytes()
    return item


def image_box_dataset(image: ImageBoxSpec, position: int, *, color: bool, planar_configuration: int = 1,
                      send_size: bool = True, send_decimate_crop: bool = True) -> Dataset:
    """N-SET Image Box attributes (PS3.3 C.13.5): position, polarity, size, pixels."""
    ds = Dataset()
    ds.ImageBoxPosition = int(position)
    ds.Polarity = str(image.polarity)
    if send_size and image.requested_size_mm:
        ds.RequestedImageSize = f"{image.requested_size_mm:.2f}"
    if send_decimate_crop and image.decimate_crop:
        ds.RequestedDecimateCropBehavior = image.decimate_crop
    item = image_pixel_item(image, planar_configuration)
    if color:
        ds.BasicColorImageSequence = [item]
    else:
        ds.BasicGrayscaleImageSequence = [item]
    return ds


def annotation_box_dataset(position: int, text: str) -> Dataset:
    """N-SET Basic Annotation Box attributes (PS3.3 C.13.7); Text String is LO (64 chars)."""
    ds = Dataset()
    ds.AnnotationPosition = int(position)
    ds.TextString = text[:64]
    return ds


def presentation_lut_dataset(shape: PresentationLUTShape | None, lut: np.ndarray | None = None,
                             bits: int = 12) -> Dataset:
    """N-CREATE Presentation LUT attributes (PS3.3 C.11.4 / C.11.6).

    Either a shape (IDENTITY, LIN OD) or LUT data whose entries cover the image bit depth
    (4096 entries for 12 bit, 256 for 8 bit, as printers that require a match demand).
    """
    ds = Dataset()
    if lut is None:
        ds.PresentationLUTShape = str(shape or PresentationLUTShape.IDENTITY)
        return ds
    values = np.asarray(lut, dtype=np.uint16)
    item = Dataset()
    out_bits = max(8, int(values.max()).bit_length())
    item.LUTDescriptor = [len(values) if len(values) < 65536 else 0, 0, out_bits]
    item.LUTData = values.tolist()
    ds.PresentationLUTSequence = [item]
    return ds
