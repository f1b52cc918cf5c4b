"""N-CREATE / N-SET datasets: encoded by pydicom and read back as a printer would."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian

from viewer.film import uids
from viewer.film.attributes import (annotation_box_dataset, film_box_dataset, film_session_dataset,
                                    image_box_dataset, presentation_lut_dataset)
from viewer.film.enums import Polarity, PresentationLUTShape, PrintPriority
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec


def roundtrip(ds: Dataset) -> Dataset:
    """Encode implicit VR little endian (what every printer accepts) and decode again."""
    out = BytesIO()
    ds = ds.copy()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(out, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return dcmread(BytesIO(out.getvalue()), force=True)


def pixels(item: Dataset) -> np.ndarray:
    """Decode an image sequence item with pydicom (items carry no File Meta of their own)."""
    item.file_meta = FileMetaDataset()
    item.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return item.pixel_array


def test_film_session():
    ds = roundtrip(film_session_dataset(FilmSessionSpec(copies=3, priority=PrintPriority.HIGH, medium_type="PAPER",
                                                        film_destination="BIN_1", label="L", owner_id="me"),
                                        presentation_lut_uid="1.2.3"))
    assert (ds.NumberOfCopies, ds.PrintPriority, ds.MediumType, ds.FilmDestination) == (3, "HIGH", "PAPER", "BIN_1")
    assert ds.FilmSessionLabel == "L" and ds.OwnerID == "me"
    assert ds.ReferencedPresentationLUTSequence[0].ReferencedSOPClassUID == uids.PRESENTATION_LUT


def test_film_box_has_mandatory_film_session_reference():
    spec = FilmBoxSpec(display_format="STANDARD\\3,4", min_density=20, max_density=300, border_density="150",
                       magnification="CUBIC", configuration_information="CS000")
    ds = roundtrip(film_box_dataset(spec, "1.2.3.4", "5.6.7"))
    assert ds.ImageDisplayFormat == "STANDARD\\3,4"
    assert (ds.MinDensity, ds.MaxDensity, ds.BorderDensity) == (20, 300, "150")
    ref = ds.ReferencedFilmSessionSequence[0]
    assert (ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID) == (uids.FILM_SESSION, "1.2.3.4")
    assert ds.ReferencedPresentationLUTSequence[0].ReferencedSOPInstanceUID == "5.6.7"
    assert "Trim" not in ds and "SmoothingType" not in ds


@pytest.mark.parametrize("bits", [8, 12])
def test_grayscale_image_box(bits):
    rng = np.random.default_rng(1)
    px = rng.integers(0, 1 << bits, (7, 5)).astype(np.uint8 if bits == 8 else np.uint16)
    ds = roundtrip(image_box_dataset(ImageBoxSpec(px, bits=bits, polarity=Polarity.REVERSE, requested_size_mm=123.4),
                                     2, color=False))
    assert ds.ImageBoxPosition == 2 and ds.Polarity == "REVERSE" and float(ds.RequestedImageSize) == 123.4
    item = ds.BasicGrayscaleImageSequence[0]
    assert (item.BitsAllocated, item.BitsStored, item.HighBit) == ((8, 8, 7) if bits == 8 else (16, 12, 11))
    assert item.PhotometricInterpretation == "MONOCHROME2" and item.PixelRepresentation == 0
    np.testing.assert_array_equal(pixels(item), px)


def test_color_image_box_is_color_by_plane():
    px = np.arange(4 * 3 * 3, dtype=np.uint8).reshape(4, 3, 3)
    ds = roundtrip(image_box_dataset(ImageBoxSpec(px), 1, color=True))
    item = ds.BasicColorImageSequence[0]
    assert item.PlanarConfiguration == 1
    # pydicom decodes planar data back to (rows, cols, samples): the same image.
    np.testing.assert_array_equal(pixels(item), px)


def test_annotation_and_presentation_lut():
    ds = roundtrip(annotation_box_dataset(3, "x" * 80))
    assert ds.AnnotationPosition == 3 and len(ds.TextString) == 64
    assert roundtrip(presentation_lut_dataset(PresentationLUTShape.LIN_OD)).PresentationLUTShape == "LIN OD"
    lut = presentation_lut_dataset(None, np.arange(4096) // 16, bits=12)
    assert list(lut.PresentationLUTSequence[0].LUTDescriptor) == [4096, 0, 8]


@pytest.mark.parametrize("bits, dtype", [(8, np.uint8), (12, np.uint16)])
def test_burn_in_writes_text_only_in_its_corner(bits, dtype):
    from viewer.film.burnin import burn_in

    px = np.full((240, 200), (1 << bits) // 2, dtype)
    out = burn_in(px, bits, ["PATIENT"], ["Se 1 Im 2"])
    assert out.dtype == px.dtype and out.shape == px.shape
    changed = np.argwhere(out != px)
    assert len(changed) > 50
    assert int(out.max()) == (1 << bits) - 1 and int(out.min()) == 0  # white text, black outline
    assert changed[:, 1].max() < 120  # left half only
    middle = out[60:180]
    assert (middle == px[60:180]).all()
