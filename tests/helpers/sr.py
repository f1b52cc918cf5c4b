"""Structured reports for tests: a hand-built Comprehensive SR covering every value type, and
a TID 1500 measurement report built with highdicom (an SR writer we did not write)."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from tests.helpers.instances import new_instance

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
ENHANCED_SR = "1.2.840.10008.5.1.4.1.1.88.22"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def content(rel: str, vt: str, name: Dataset | None, **values: object) -> Dataset:
    item = Dataset()
    item.RelationshipType = rel
    item.ValueType = vt
    if name is not None:
        item.ConceptNameCodeSequence = Sequence([name])
    for key, value in values.items():
        setattr(item, key, value)
    return item


def image_ref(sop_class: str, sop_instance: str, frames: list[int] | None = None) -> Sequence:
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = sop_class, sop_instance
    if frames:
        ref.ReferencedFrameNumber = frames
    return Sequence([ref])


def comprehensive_sr(path: Path, sop_class: str = COMPREHENSIVE_SR, image_uid: str | None = None) -> Path:
    """An SR with TEXT, CODE, NUM, DATE, TIME, DATETIME, PNAME, UIDREF, IMAGE, COMPOSITE and
    SCOORD items in nested containers (only TEXT/CODE/IMAGE/PNAME/DATE/UIDREF for Basic Text)."""
    image_uid = image_uid or generate_uid()
    basic = sop_class == BASIC_TEXT_SR
    ds = new_instance(sop_class)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "SR"
    ds.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    ds.PatientID, ds.PatientSex, ds.PatientBirthDate = "PID-42", "M", "19700101"
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.StudyDescription = "20240305", "101500", "S77", "CT chest"
    ds.AccessionNumber, ds.ReferringPhysicianName = "ACC9", "Referrer^Rita"
    ds.SeriesNumber, ds.SeriesDescription, ds.InstanceNumber = 99, "Report", 1
    ds.Manufacturer = "Hand Built"
    ds.ContentDate, ds.ContentTime = "20240306", "093000"
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    ds.ReferencedPerformedProcedureStepSequence = Sequence([])
    ds.PerformedProcedureCodeSequence = Sequence([])
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.ConceptNameCodeSequence = Sequence([code("18748-4", "LN", "Diagnostic Imaging Report")])
    findings = [
        content("CONTAINS", "TEXT", code("121071", "DCM", "Finding"),
                TextValue="A 12 mm nodule in the right upper lobe; no effusion."),
        content("CONTAINS", "CODE", code("121071", "DCM", "Finding"),
                ConceptCodeSequence=Sequence([code("27925004", "SCT", "Nodule")])),
        content("CONTAINS", "IMAGE", code("121112", "DCM", "Source of Measurement"),
                ReferencedSOPSequence=image_ref(CT_IMAGE, image_uid, [3])),
    ]
    if not basic:
        num = content("CONTAINS", "NUM", code("81827009", "SCT", "Diameter"))
        mv = Dataset()
        mv.NumericValue = "12.5"
        mv.MeasurementUnitsCodeSequence = Sequence([code("mm", "UCUM", "millimeter")])
        num.MeasuredValueSequence = Sequence([mv])
        findings += [
            num,
            content("CONTAINS", "SCOORD", code("111030", "DCM", "Image Region"), GraphicType="POLYLINE",
                    GraphicData=[10.5, 20.0, 30.25, 40.0, 10.5, 20.0],
                    ContentSequence=Sequence([content("SELECTED FROM", "IMAGE", None,
                                                      ReferencedSOPSequence=image_ref(CT_IMAGE, image_uid))])),
            content("CONTAINS", "TIME", code("111061", "DCM", "Time of observation"), Time="101700"),
            content("CONTAINS", "DATETIME", code("111060", "DCM", "Datetime of observation"),
                    DateTime="20240305101800"),
        ]
    history = content("CONTAINS", "CONTAINER", code("121060", "DCM", "History"), ContinuityOfContent="SEPARATE",
                      ContentSequence=Sequence([
                          content("CONTAINS", "TEXT", code("121060", "DCM", "History"),
                                  TextValue="Smoker, 30 pack-years."),
                          content("CONTAINS", "DATE", code("111018", "DCM", "Content Date"), Date="20231201"),
                      ]))
    ds.ContentSequence = Sequence([
        content("HAS OBS CONTEXT", "PNAME", code("121008", "DCM", "Person Observer Name"),
                PersonName="Curie^Marie"),
        content("HAS OBS CONTEXT", "UIDREF", code("121018", "DCM", "Procedure Study Instance UID"),
                UID=ds.StudyInstanceUID),
        history,
        content("CONTAINS", "CONTAINER", code("121070", "DCM", "Findings"), ContinuityOfContent="SEPARATE",
                ContentSequence=Sequence(findings)),
    ])
    ds.save_as(path, enforce_file_format=True)
    return path


def tid1500_sr(path: Path, image: Dataset) -> Path:
    """A TID 1500 Measurement Report on ``image`` (a CT), written by highdicom."""
    import highdicom as hd
    import numpy as np
    from pydicom.sr.codedict import codes

    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name="Doe^Jane"))
    region = hd.sr.ImageRegion(graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
                               graphic_data=np.array([[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 10.0]]),
                               source_image=hd.sr.SourceImageForRegion.from_source_image(image))
    group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="lesion 1"),
        referenced_region=region, finding_type=codes.SCT.Lesion,
        measurements=[hd.sr.Measurement(name=codes.SCT.Diameter, value=12.5, unit=codes.UCUM.Millimeter)],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(
            name=hd.sr.CodedConcept("RID5", "RADLEX", "Lesion"),
            value=hd.sr.CodedConcept("RID5741", "RADLEX", "Hypodense"))])
    report = hd.sr.MeasurementReport(observation_context=hd.sr.ObservationContext(observer_person_context=observer),
                                     procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
                                     imaging_measurements=[group])
    sr = hd.sr.Comprehensive3DSR(evidence=[image], content=report, series_instance_uid=hd.UID(), series_number=10,
                                 sop_instance_uid=hd.UID(), instance_number=1, manufacturer="highdicom",
                                 series_description="Measurements")
    sr.save_as(path)
    return path
