"""The fast header reader must give exactly what the pydicom path gives.

Oracle: pydicom (``read_instance(fast=False)`` reads with ``pydicom.dcmread``; the
DICOMDIR reference parser uses pydicom's Directory Record Sequence).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from viewer.dicom import _header_reader as fast
from viewer.dicom.dicomdir import read_dicomdir
from viewer.dicom.headers import read_instance


def _result(path: Path, use_fast: bool):
    try:
        return read_instance(path, fast=use_fast)
    except Exception as exc:  # noqa: BLE001 - compared as (type, message)
        return type(exc).__name__, str(exc)


def _corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".md"))


def test_fast_reader_equals_pydicom_over_the_corpus(corpus: Path) -> None:
    handled = 0
    for path in _corpus_files(corpus):
        a, b = _result(path, True), _result(path, False)
        assert a == b, path
        try:
            fast.read_file_values(str(path))
            handled += 1
        except fast.Unsupported:
            pass
    # Not vacuous: most corpus files (Explicit/Implicit VR LE with File Meta) take the fast path.
    assert handled >= 60


@pytest.mark.parametrize("chunk", [200, 512, 4096])
def test_small_first_chunks_read_more(corpus: Path, chunk: int) -> None:
    path = corpus / "series/ct_stack_40/IMG0001.dcm"
    values, ts = fast.read_file_values(str(path), first_chunk=chunk)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert ts == ds.file_meta.TransferSyntaxUID
    assert values["SOPInstanceUID"] == ds.SOPInstanceUID
    assert values["ImagePositionPatient"] == [float(v) for v in ds.ImagePositionPatient]
    assert values["Rows"] == ds.Rows


def _file(tmp_path: Path, ts: str, name: str, undefined_sq: bool) -> Path:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[name])
    # A sequence before the wanted attributes, with undefined lengths (PS3.5 7.5.2).
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "123", "DCM", "thing"
    inner = Dataset()
    inner.CodeValue = "456"
    item.ConceptNameCodeSequence = Sequence([inner])
    ds.ProcedureCodeSequence = Sequence([item])
    if undefined_sq:
        ds["ProcedureCodeSequence"].is_undefined_length = True
        item["ConceptNameCodeSequence"].is_undefined_length = True
    ds.PatientName = "Müller^Jürgen"
    ds.PatientID = "ID 1"
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[name, "st"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[name, "se"])
    ds.Modality = "OT"
    ds.InstanceNumber = "7"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.ImagePositionPatient = [1.5, -2, 3e1]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelAspectRatio = [4, 3]
    ds.Rows, ds.Columns = 4, 6
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.zeros((4, 6), np.uint8).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ts
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, ImplicitVRLittleEndian], ids=["explicit", "implicit"])
@pytest.mark.parametrize("undefined_sq", [False, True], ids=["defined", "undefined"])
def test_sequences_charsets_and_encodings(tmp_path: Path, ts: str, undefined_sq: bool) -> None:
    path = _file(tmp_path, ts, "f.dcm", undefined_sq)
    fast.read_file_values(str(path))  # the fast path handles it (no Unsupported)
    a, b = read_instance(path, fast=True), read_instance(path, fast=False)
    assert a == b
    assert a.patient_name == "Müller^Jürgen" and a.pixel_aspect == (4.0, 3.0)
    assert a.transfer_syntax_uid == ts


def test_truncated_copy_falls_back_to_pydicom(tmp_path: Path) -> None:
    path = _file(tmp_path, ExplicitVRLittleEndian, "f.dcm", True)
    data = path.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: data.index(b"M\xfcller") + 3])  # inside Patient's Name
    assert _result(cut, True) == _result(cut, False)
    with pytest.raises(fast.Unsupported):
        fast.read_file_values(str(cut))


def test_dicomdir_fast_parser_equals_pydicom(corpus: Path, tmp_path: Path) -> None:
    media = corpus / "dicomdir_media" / "DICOMDIR"
    a, b = read_dicomdir(media), read_dicomdir(media, fast=False)
    assert a.instances == b.instances and a.records == b.records == 14
    root, records, order = fast.parse_dicomdir(media.read_bytes())
    ds = pydicom.dcmread(media)
    assert root == ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity
    assert order == [item.seq_item_tell for item in ds.DirectoryRecordSequence]
    for item in ds.DirectoryRecordSequence:
        rec = records[item.seq_item_tell]
        assert rec.rtype == item.DirectoryRecordType
        assert rec.next == item.OffsetOfTheNextDirectoryRecord
        assert rec.lower == item.OffsetOfReferencedLowerLevelDirectoryEntity
        if "ReferencedFileID" in item:
            assert list(rec.values["ReferencedFileID"]) == list(item.ReferencedFileID)


def test_dicomdir_with_inactive_record(corpus: Path, tmp_path: Path) -> None:
    media = tmp_path / "cd"
    shutil.copytree(corpus / "dicomdir_media", media)
    ds = pydicom.dcmread(media / "DICOMDIR")
    image = next(r for r in ds.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE")
    image.RecordInUseFlag = 0  # PS3.3 F.3.2.2: an inactive record is ignored
    # Rewrite in place: same lengths, so the record offsets stay valid.
    ds.save_as(media / "DICOMDIR", enforce_file_format=True)
    a, b = read_dicomdir(media / "DICOMDIR"), read_dicomdir(media / "DICOMDIR", fast=False)
    assert a.instances == b.instances
    assert len(a.instances) == 13
    assert image.ReferencedSOPInstanceUIDInFile not in {i.sop_instance_uid for i in a.instances}


def test_instances_are_plain_dataclasses(corpus: Path) -> None:
    inst = read_instance(corpus / "ct/CT_small.dcm")
    assert dataclasses.replace(inst) == inst
    assert dataclasses.asdict(inst)["sop_instance_uid"] == pydicom.dcmread(corpus / "ct/CT_small.dcm").SOPInstanceUID


def test_index_only_reads_what_the_library_stores_as_pydicom_does(corpus: Path) -> None:
    """``read_instance(index_only=True)`` (what ``library import`` reads of each file) gives
    the library's attributes exactly as the pydicom path does, and leaves the rest default."""
    from viewer.dicom.headers import FIELDS

    stored = {FIELDS[k][0] for k in fast.INDEX_KEYWORDS if k in FIELDS} | {"transfer_syntax_uid", "path"}
    assert {"patient_name", "series_description", "sop_class_uid", "number_of_frames"} <= stored
    compared = 0
    for path in _corpus_files(corpus):
        oracle = _result(path, False)
        try:
            light = read_instance(path, index_only=True)
        except Exception as exc:  # noqa: BLE001 - compared as (type, message)
            assert oracle == (type(exc).__name__, str(exc)), path
            continue
        if isinstance(oracle, tuple):
            continue  # pydicom refuses a file the library's reader does not need the end of
        assert {f: getattr(light, f) for f in stored} == {f: getattr(oracle, f) for f in stored}, path
        compared += 1
    assert compared >= 60
    # Geometry is not read: a CT stack's position stays at its default.
    ct = read_instance(corpus / "series/ct_stack_40/IMG0001.dcm", index_only=True)
    assert ct.image_position is None and ct.pixel_spacing is None


@pytest.mark.parametrize("charset, name, description", [
    ("ISO_IR 100", "Müller^Jürgen", "Thorax natif  "),
    ("ISO_IR 101", "Łukasiewicz^Paweł", "Klatka piersiowa"),
    ("ISO_IR 144", "Иванов^Пётр", "Грудная клетка"),
    ("ISO_IR 126", "Παπαδόπουλος^Νίκος", "Θώρακας"),
    ("ISO_IR 148", "Öztürk^Ayşe", "Göğüs"),
    ("ISO_IR 192", "García^Léa=山田^太郎=やまだ^たろう", "Cœur — 心臓 \\ second value"),
    ("ISO_IR 192", "Nguyễn^Văn", " Đầu "),
    ("ISO_IR 100\\ISO 2022 IR 87", "Yamada^Tarou=山田^太郎", "頭部"),
], ids=["latin1", "latin2", "cyrillic", "greek", "latin5", "utf8-groups", "utf8", "iso2022"])
def test_8_bit_and_utf_8_text_reads_as_pydicom_reads_it(tmp_path: Path, charset: str, name: str,
                                                        description: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values in one code page (or UTF-8) are decoded by the fast reader's codecs; the result
    equals the pydicom path's for names, descriptions and multi-valued text."""
    path = _file(tmp_path, ExplicitVRLittleEndian, "f.dcm", False)
    ds = pydicom.dcmread(path)
    ds.SpecificCharacterSet = charset.split("\\") if "\\" in charset else charset
    ds.PatientName, ds.StudyDescription, ds.SeriesDescription = name, description, description.strip()
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.save_as(path)
    from pydicom import dataelem

    calls: list[int] = []
    convert = dataelem.convert_raw_data_element
    monkeypatch.setattr(dataelem, "convert_raw_data_element",
                        lambda *a, **k: (calls.append(1), convert(*a, **k))[1])
    fast.read_file_values(str(path))  # the fast path handles the file...
    # ... with its own codecs, except for ISO 2022 escapes and PN component groups
    assert bool(calls) == ("=" in name or "2022" in charset)
    a, b = read_instance(path, fast=True), read_instance(path, fast=False)
    assert a == b
    assert a.patient_name == name and a.series_description.startswith(description.strip()[:4])


def test_padded_values_of_multi_valued_text_read_as_pydicom_reads_them(tmp_path: Path) -> None:
    path = _file(tmp_path, ExplicitVRLittleEndian, "f.dcm", False)
    ds = pydicom.dcmread(path)
    ds.StudyDescription = "CHEST \\ ABDOMEN \\PELVIS"
    ds.save_as(path)
    a, b = read_instance(path, fast=True), read_instance(path, fast=False)
    assert a.study_description == b.study_description == "CHEST\\ ABDOMEN\\PELVIS"
