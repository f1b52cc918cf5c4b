"""Plain-data and text views of a :class:`StudyTree` for ``scan`` (JSON and console)."""

from __future__ import annotations

from typing import Any

from viewer.dicom.model import Series, StudyTree, format_date, format_person_name


def _series_dict(series: Series) -> dict[str, Any]:
    spacing = series.spacing
    pixel = series.pixel_spacing
    return {
        "series_instance_uid": series.series_instance_uid,
        "modality": series.modality,
        "series_number": series.series_number,
        "series_description": series.series_description,
        "instances": series.instance_count,
        "frames": series.frame_count,
        "stacks": len(series.stacks),
        "pixel_spacing": [pixel.row_mm, pixel.col_mm] if pixel else None,
        "spacing_source": pixel.source if pixel else None,
        "z_spacing": round(spacing.spacing_mm, 6) if spacing else None,
        "z_uniform": spacing.uniform if spacing else None,
        "gaps": [{"from": round(g.start_mm, 4), "to": round(g.end_mm, 4), "missing": g.missing}
                 for g in spacing.gaps] if spacing else [],
        "headers_loaded": series.headers_loaded,
        # images shown with generated identifiers (their file lacked these UIDs)
        "generated_uids": [{"path": i.path, "missing": list(i.generated_uids), "note": i.uid_note}
                           for i in series.instances if i.generated_uids],
    }


def tree_to_dict(tree: StudyTree) -> dict[str, Any]:
    """The tree as JSON-ready data (the ``scan --json`` schema, plus a few extra keys)."""
    return {
        "patients": [
            {
                "patient_id": p.patient_id,
                "patient_name": p.patient_name,
                "studies": [
                    {
                        "study_instance_uid": st.study_instance_uid,
                        "study_date": st.study_date,
                        "study_description": st.study_description,
                        "series": [_series_dict(se) for se in st.series],
                    }
                    for st in p.studies
                ],
            }
            for p in tree.patients
        ],
        "errors": [{"path": path, "error": error} for path, error in tree.errors],
        "missing": tree.missing,
        "duplicates": tree.duplicates,
    }


def tree_to_text(tree: StudyTree) -> str:
    """A short indented listing for the console."""
    lines: list[str] = []
    for p in tree.patients:
        lines.append(f"Patient {format_person_name(p.patient_name) or '(no name)'} [{p.patient_id}]")
        for st in p.studies:
            lines.append(f"  Study {format_date(st.study_date)} {st.study_description or '(no description)'}"
                         f"  {st.study_instance_uid}")
            for se in st.series:
                d = _series_dict(se)
                parts = [f"    Series {d['series_number'] if d['series_number'] is not None else '-'}",
                         d["modality"] or "??", repr(d["series_description"] or ""),
                         f"{d['instances']} instances, {d['frames']} frames"]
                if d["stacks"] > 1:
                    parts.append(f"{d['stacks']} stacks")
                if d["spacing_source"]:
                    parts.append(f"pixel {d['pixel_spacing'][0]:g}x{d['pixel_spacing'][1]:g} mm"
                                 f" ({d['spacing_source']})")
                if d["z_spacing"] is not None:
                    parts.append(f"z {d['z_spacing']:g} mm" + ("" if d["z_uniform"] else " non-uniform"))
                for g in d["gaps"]:
                    parts.append(f"gap {g['from']:g}..{g['to']:g} mm (~{g['missing']} missing)")
                if not d["headers_loaded"]:
                    parts.append("from DICOMDIR")
                lines.append(", ".join(parts))
                lines.extend(f"      {g['path']}: {g['note']}" for g in d["generated_uids"])
    if tree.missing:
        lines.append(f"{tree.missing} file(s) listed in the DICOMDIR are missing")
    if tree.errors:
        lines.append(f"Errors ({len(tree.errors)}):")
        lines.extend(f"  {path}: {error}" for path, error in tree.errors)
    return "\n".join(lines) + "\n"
