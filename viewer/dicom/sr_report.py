"""An SR :class:`~viewer.dicom.sr.Report` as readable text or HTML.

Text: the header, then the content tree indented by level, one item per line as
``Concept: value``; containers are headings. HTML: the same as nested lists, containers as
headings, image references as ``dicom:`` links (``dicom:SOPInstanceUID?frame=N``) that the
viewer opens.
"""

from __future__ import annotations

import html

from viewer.dicom.sr import Code, ContentItem, ImageRef, Report

_REL = {"CONTAINS": "", "HAS PROPERTIES": "property", "HAS CONCEPT MOD": "concept modifier",
        "HAS OBS CONTEXT": "observation context", "HAS ACQ CONTEXT": "acquisition context",
        "INFERRED FROM": "inferred from", "SELECTED FROM": "selected from"}


def _header_lines(report: Report) -> list[tuple[str, str]]:
    patient = report.patient_name
    extra = ", ".join(p for p in (report.patient_sex, f"ID {report.patient_id}" if report.patient_id else "",
                                  f"born {report.patient_birth_date}" if report.patient_birth_date else "") if p)
    study = " ".join(p for p in (report.study_description, f"(ID {report.study_id})" if report.study_id else "",
                                 report.study_date) if p)
    series = " ".join(p for p in (report.series_description,
                                  f"(#{report.series_number})" if report.series_number else "") if p)
    rows = [("Patient", f"{patient} ({extra})" if extra else patient),
            ("Referring Physician", report.referring_physician), ("Study", study), ("Series", series),
            ("Manufacturer", report.manufacturer), ("Preliminary Flag", report.preliminary_flag),
            ("Completion Flag", report.completion_flag), ("Verification Flag", report.verification_flag),
            ("Content Date/Time", f"{report.content_date} {report.content_time}".strip())]
    rows += [("Observer", o) for o in report.observers]
    return [(k, v) for k, v in rows if v]


def _ref_text(ref: ImageRef) -> str:
    frames = f" frame {','.join(str(f) for f in ref.frames)}" if ref.frames else ""
    pstate = f" with presentation state {ref.presentation_state_uid}" if ref.presentation_state_uid else ""
    return f"{ref.sop_class_name} {ref.sop_instance_uid}{frames}{pstate}"


def _value_text(item: ContentItem) -> str:
    if item.value_type == "NUM" and item.unit is not None:
        return f"{item.number} {item.unit.value} [{item.unit}]"
    if item.references:
        return "; ".join(_ref_text(r) for r in item.references)
    return item.text


def _label(item: ContentItem) -> str:
    rel = _REL.get(item.relationship, item.relationship.lower())
    name = str(item.concept) if item.concept else ""
    return f"({rel}) {name}".strip() if rel else name


def to_text(report: Report) -> str:
    """The report as plain text (what ``python -m viewer report`` prints)."""
    title = str(report.title) if report.title else report.sop_class_name
    if report.root is not None and report.root.continuity:
        title += f" [{report.root.continuity}]"
    lines = [title, report.sop_class_name, ""]
    width = max((len(k) for k, _ in _header_lines(report)), default=0)
    lines += [f"{k:<{width}} : {v}" for k, v in _header_lines(report)]
    lines.append("")

    def walk(item: ContentItem, depth: int) -> None:
        pad = "  " * depth
        if item.value_type == "CONTAINER":
            if depth:
                cont = f" [{item.continuity}]" if item.continuity else ""
                lines.append(f"{pad}{_label(item) or '(container)'}{cont}")
        else:
            label = _label(item) or item.value_type
            lines.append(f"{pad}{label}: {_value_text(item)}")
        for child in item.children:
            walk(child, depth + 1)

    if report.root is not None:
        walk(report.root, 0)
    lines += [f"Note: {n}" for n in report.notes]
    return "\n".join(lines) + "\n"


def _code_html(code: Code | None) -> str:
    if code is None:
        return ""
    meaning = html.escape(code.meaning)
    if not code.value:
        return meaning
    return f'{meaning} <span class="code">({html.escape(code.value)}, {html.escape(code.scheme)})</span>'


def ref_link(ref: ImageRef) -> str:
    """The ``dicom:`` link of a reference: the SOP Instance UID and the first frame."""
    frame = f"?frame={ref.frames[0]}" if ref.frames else ""
    return f"dicom:{ref.sop_instance_uid}{frame}"


def to_html(report: Report) -> str:
    """The report as a standalone HTML page (what the viewer's report pane shows)."""
    title = _code_html(report.title) if report.title else html.escape(report.sop_class_name)
    out = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\"><title>",
           html.escape(report.title.meaning if report.title else report.sop_class_name),
           "</title><style>body{font-family:sans-serif} .code{color:#777;font-size:smaller}"
           " .rel{color:#555;font-style:italic} th{text-align:left;padding-right:1em}</style></head><body>",
           f"<h1>{title}</h1>", f"<p>{html.escape(report.sop_class_name)}</p>", "<table>"]
    out += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _header_lines(report)]
    out.append("</table>")

    def value_html(item: ContentItem) -> str:
        if item.value_type == "NUM" and item.unit is not None:
            return f"{html.escape(item.number)} {html.escape(item.unit.value)} {_code_html(item.unit)}"
        if item.value_type == "CODE":
            return _code_html(item.code)
        if item.references:
            return "; ".join(f'<a href="{html.escape(ref_link(r))}">{html.escape(_ref_text(r))}</a>'
                             for r in item.references)
        return html.escape(item.text)

    def walk(item: ContentItem, depth: int) -> None:
        rel = _REL.get(item.relationship, item.relationship.lower())
        rel_html = f'<span class="rel">{html.escape(rel)}</span> ' if rel else ""
        if item.value_type == "CONTAINER":
            if depth:
                level = min(depth + 1, 6)
                out.append(f"<li><h{level}>{rel_html}{_code_html(item.concept)}</h{level}>")
        else:
            out.append(f"<li>{rel_html}<b>{_code_html(item.concept) or item.value_type}</b>: {value_html(item)}")
        if item.children:
            out.append("<ul>")
            for child in item.children:
                walk(child, depth + 1)
            out.append("</ul>")
        if depth:
            out.append("</li>")

    if report.root is not None:
        walk(report.root, 0)
    out += [f"<p><i>Note: {html.escape(n)}</i></p>" for n in report.notes]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
