"""Hanging protocols: which series hang in which viewport, chosen by rules kept as data.

A protocol is a JSON file (bundled in ``resources/hanging_protocols/``, the user's own in
``<config>/hanging_protocols/``, see :mod:`viewer.paths`)::

    {"name": "CT/MR: localizer beside the stack", "priority": 50,
     "match": {"modality": ["CT", "MR"], "requires": [{"localizer": true}, {"localizer": false, "min_images": 2}]},
     "layout": "1x2", "active": 1,
     "viewports": [{"localizer": true}, {"localizer": false, "min_images": 2}]}

The unit that hangs is a *display set*: one stack of a cross-sectional series (a series
holding an axial stack and its localizer gives two), or the images of one view (View
Position and laterality) of a projection series (CR, DX, MG, IO, PX: a mammography series
holding the four views gives four). A selector
(a viewport's rule, or one of ``match.requires``) may test:

``modality``, ``view_position``, ``laterality``, ``orientation`` (lists of values);
``body_part`` (list of shell patterns, ``CHEST*``); ``description`` (regular expression on
Series Description); ``min_images``/``max_images``; ``localizer`` (bool); ``primary``
(true: the study's primary modality); ``study`` (``"current"``, the default, or ``"prior"``:
an older study of the same patient); ``order`` (``"largest"``, the default: most images
first, or ``"series"``: by Series Number).

A protocol applies when its ``match`` holds for the current study: ``modality`` lists the
primary modality, ``body_part`` patterns, ``requires`` selectors each satisfied by a
different display set, ``count`` (``{"select": {...}, "min": 2, "max": 2}``). The matching
protocol of highest ``priority`` wins; viewports its rules leave empty, and those of a
larger layout asked for on the command line, get the largest remaining stacks of the
primary modality, never a localizer before a stack. No Qt here.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from viewer.dicom.geometry import slice_normal

log = logging.getLogger(__name__)

#: Modalities of objects without images to hang (PS3.3 C.7.3.1.1.1).
NON_IMAGE = frozenset({"SR", "PR", "KO", "DOC", "REG", "RTSTRUCT", "RTPLAN", "RTRECORD", "FID", "ECG", "AU",
                       "HD", "RWV", "PLAN", "SMR"})
#: Projection modalities: every image hangs on its own (views, not slices).
PROJECTION = frozenset({"CR", "DX", "MG", "IO", "PX", "RG"})
#: Series Descriptions of localizers (scanners' names for them).
LOCALIZER_WORDS = re.compile(r"scout|locali[sz]er|topogram|surview|scanogram|survey|pilot|\bloc\b|3.?plane",
                             re.IGNORECASE)
#: Selector keys (anything else in a rule is refused with a message).
SELECTOR_KEYS = frozenset({"modality", "body_part", "description", "min_images", "max_images", "localizer",
                           "view_position", "laterality", "orientation", "study", "primary", "order"})


class ProtocolError(ValueError):
    """A hanging protocol file that cannot be used (the message says why)."""


@dataclass(frozen=True)
class DisplaySet:
    """What one viewport shows: a stack of a series, or one view of a projection series."""

    key: str  #: unique: Series Instance UID, plus ``#k`` for a stack or ``@VIEW/SIDE`` for a view
    series_uid: str
    study_uid: str
    instance_uids: tuple[str, ...]  #: in display order
    modality: str = ""
    body_part: str = ""
    description: str = ""
    series_number: int | None = None
    images: int = 0  #: frames
    localizer: bool = False
    view_position: str = ""
    laterality: str = ""
    orientation: str = ""  #: ``axial``, ``coronal``, ``sagittal``, ``oblique`` or ``""``
    frame_of_reference_uid: str = ""
    prior: bool = False  #: from an older study of the patient than the current one


def plane_name(orientation: Sequence[float] | None) -> str:
    """``axial``/``coronal``/``sagittal`` by the slice normal's main LPS axis, else ``oblique``."""
    n = slice_normal(orientation) if orientation is not None else None
    if n is None:
        return ""
    axis = max(range(3), key=lambda i: abs(n[i]))
    if abs(n[axis]) < 0.8:  # more than about 37 degrees off every axis
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _is_localizer(instances: Sequence[Any], description: str) -> bool:
    # CT/MR Image Type value 3 LOCALIZER (PS3.3 C.8.2.1.1.1, C.8.3.1.1.1).
    if any("LOCALIZER" in tuple(getattr(i, "image_type", ()) or ())[2:] for i in instances):
        return True
    return len(instances) <= 3 and bool(LOCALIZER_WORDS.search(description or ""))


def _set_from(series: Any, study_uid: str, key: str, instances: Sequence[Any], prior: bool,
              localizer: bool | None = None) -> DisplaySet:
    first = instances[0]
    description = str(getattr(series, "series_description", "") or "")
    return DisplaySet(
        key=key, series_uid=str(series.series_instance_uid), study_uid=study_uid,
        instance_uids=tuple(str(i.sop_instance_uid) for i in instances),
        modality=str(getattr(series, "modality", "") or getattr(first, "modality", "") or "").upper(),
        body_part=str(getattr(first, "body_part_examined", "") or "").upper(),
        description=description, series_number=getattr(series, "series_number", None),
        images=sum(max(1, int(getattr(i, "number_of_frames", 1) or 1)) for i in instances),
        localizer=_is_localizer(instances, description) if localizer is None else localizer,
        view_position=str(getattr(first, "view_position", "") or "").upper(),
        laterality=str(getattr(first, "laterality", "") or "").upper(),
        orientation=plane_name(getattr(first, "image_orientation", None)),
        frame_of_reference_uid=str(getattr(first, "frame_of_reference_uid", "") or ""), prior=prior)


def _has_pixels(inst: Any) -> bool:
    # A DICOMDIR record may not know Rows yet; a read header without Rows has no image.
    return getattr(inst, "rows", None) is not None or not getattr(inst, "header_loaded", True)


def series_display_sets(series: Any, study_uid: str, prior: bool = False) -> list[DisplaySet]:
    """The display sets of one :class:`viewer.dicom.model.Series`."""
    modality = str(getattr(series, "modality", "") or "").upper()
    if modality in NON_IMAGE:
        return []
    uid = str(series.series_instance_uid)
    if modality in PROJECTION:
        # One set per view (View Position + laterality): a mammogram's four views hang apart,
        # images of one view (or of no stated view) stay one stack to scroll through.
        views: dict[tuple[str, str], list[Any]] = {}
        for inst in series.instances:
            if _has_pixels(inst):
                view = (str(getattr(inst, "view_position", "") or "").upper(),
                        str(getattr(inst, "laterality", "") or "").upper())
                views.setdefault(view, []).append(inst)
        if len(views) == 1:
            return [_set_from(series, study_uid, uid, group, prior) for group in views.values()]
        return [_set_from(series, study_uid, f"{uid}@{'/'.join(v)}", group, prior)
                for v, group in views.items()]
    stacks = [[i for i in stack.instances if _has_pixels(i)] for stack in series.stacks]
    stacks = [s for s in stacks if s]
    out = []
    biggest = max((len(s) for s in stacks), default=0)
    for k, instances in enumerate(stacks):
        key = uid if len(stacks) == 1 else f"{uid}#{k}"
        ds = _set_from(series, study_uid, key, instances, prior)
        # A single image beside a larger stack of another orientation in one series is
        # the scanner's localizer stored with the slices.
        if not ds.localizer and len(stacks) > 1 and len(instances) == 1 and biggest > 1:
            ds = _set_from(series, study_uid, key, instances, prior, localizer=True)
        out.append(ds)
    return out


def display_sets(tree: Any) -> list[DisplaySet]:
    """Display sets of the first patient of a :class:`viewer.dicom.model.StudyTree`.

    The newest study is the current one; the patient's other studies are priors. Order:
    current study first, then by Series Number, then stack.
    """
    patients = [p for p in tree.patients if any(st.series for st in p.studies)]
    if not patients:
        return []
    out: list[DisplaySet] = []
    for k, study in enumerate(patients[0].studies):  # newest first
        for series in study.series:
            out.extend(series_display_sets(series, str(study.study_instance_uid), prior=k > 0))
    return out


def primary_modality(sets: Sequence[DisplaySet]) -> str:
    """The modality with the most instances in the current study (localizers not counted;
    a multi-frame cine counts once, so a CT's slices outweigh one XA run)."""
    totals: dict[str, int] = {}
    for s in sets:
        if not s.prior and not s.localizer and s.modality:
            totals[s.modality] = totals.get(s.modality, 0) + len(s.instance_uids)
    if not totals:
        totals = {s.modality: 1 for s in sets if s.modality}
    return max(totals, key=lambda m: totals[m]) if totals else ""


# ---------------------------------------------------------------- protocols


@dataclass(frozen=True)
class Protocol:
    """One hanging protocol (see the module docstring for the JSON)."""

    name: str
    layout: str = "1x1"
    viewports: tuple[Mapping[str, Any], ...] = ()
    match: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0
    active: int = 0
    source: str = ""  #: the file it came from

    @staticmethod
    def from_json(raw: Mapping[str, Any], source: str = "") -> "Protocol":
        """Validate and build; raises :class:`ProtocolError` with the reason."""
        if not isinstance(raw, Mapping):
            raise ProtocolError(f"{source or 'protocol'}: not a JSON object")
        name = str(raw.get("name") or Path(source).stem or "").strip()
        if not name:
            raise ProtocolError(f"{source or 'protocol'}: no name")
        layout = str(raw.get("layout", "1x1")).lower()
        check_layout(layout, name)
        viewports = raw.get("viewports", [])
        if not isinstance(viewports, list) or not all(isinstance(v, Mapping) for v in viewports):
            raise ProtocolError(f"{name}: 'viewports' must be a list of rules (objects)")
        match = raw.get("match", {})
        if not isinstance(match, Mapping):
            raise ProtocolError(f"{name}: 'match' must be an object")
        requires, count = match.get("requires", []), match.get("count", {})
        if not isinstance(requires, list):
            raise ProtocolError(f"{name}: 'match.requires' must be a list of rules")
        if not isinstance(count, Mapping):
            raise ProtocolError(f"{name}: 'match.count' must be an object")
        for key in ("min", "max"):
            if key in count and not _whole(count[key]):
                raise ProtocolError(f"{name}: 'match.count.{key}' must be a whole number")
        for rule in list(viewports) + list(requires) + [count.get("select", {})]:
            _check_selector(rule, name)
        try:
            priority, active = int(raw.get("priority", 0)), int(raw.get("active", 0))
        except (TypeError, ValueError):
            raise ProtocolError(f"{name}: 'priority' and 'active' must be whole numbers") from None
        return Protocol(name, layout, tuple(viewports), match, priority, active, source)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "priority": self.priority, "match": dict(self.match),
                               "layout": self.layout, "active": self.active,
                               "viewports": [dict(v) for v in self.viewports]}
        return out


def check_layout(layout: str, name: str) -> tuple[int, int]:
    try:
        rows, cols = (int(v) for v in layout.split("x"))
    except ValueError:
        raise ProtocolError(f"{name}: layout must look like 1x2 (rows x columns), not {layout!r}") from None
    if not (1 <= rows <= 4 and 1 <= cols <= 4):
        raise ProtocolError(f"{name}: layout {layout} is out of range (1..4 rows and columns)")
    return rows, cols


def _check_selector(rule: Mapping[str, Any], name: str) -> None:
    if not isinstance(rule, Mapping):
        raise ProtocolError(f"{name}: a rule must be an object, not {rule!r}")
    unknown = set(rule) - SELECTOR_KEYS
    if unknown:
        raise ProtocolError(f"{name}: unknown rule keys {sorted(unknown)} (known: {sorted(SELECTOR_KEYS)})")
    if "description" in rule:
        try:
            re.compile(str(rule["description"]))
        except re.error as exc:
            raise ProtocolError(f"{name}: bad description pattern {rule['description']!r}: {exc}") from None
    if rule.get("study", "current") not in ("current", "prior", "any"):
        raise ProtocolError(f"{name}: 'study' must be current, prior or any")
    if rule.get("order", "largest") not in ("largest", "series"):
        raise ProtocolError(f"{name}: 'order' must be largest or series")
    for key in ("min_images", "max_images"):
        if key in rule and not _whole(rule[key]):
            raise ProtocolError(f"{name}: '{key}' must be a whole number, not {rule[key]!r}")
    for key in ("localizer", "primary"):
        if key in rule and not isinstance(rule[key], bool):
            raise ProtocolError(f"{name}: '{key}' must be true or false, not {rule[key]!r}")
    for key in ("modality", "body_part", "view_position", "laterality", "orientation"):
        value = rule.get(key)
        if value is not None and not isinstance(value, (str, list)):
            raise ProtocolError(f"{name}: '{key}' must be a text or a list of texts")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def load_protocols(folders: Iterable[Path]) -> list[Protocol]:
    """Every ``*.json`` protocol in ``folders``; a later folder's protocol replaces an
    earlier one of the same name (user copies override the bundled ones). Bad files are
    skipped with a warning naming the reason."""
    by_name: dict[str, Protocol] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                proto = Protocol.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
            except (OSError, ValueError) as exc:  # ProtocolError and JSONDecodeError are ValueErrors
                log.warning("hanging protocol %s skipped: %s", path, exc)
                continue
            by_name[proto.name.lower()] = proto
    return list(by_name.values())


def protocol_folders() -> list[Path]:
    """The bundled protocols, then the user's (``<config>/hanging_protocols``)."""
    from viewer import paths
    from viewer.resources import resource_path

    return [resource_path("hanging_protocols", must_exist=False), paths.config_dir() / "hanging_protocols"]


def find_protocol(protocols: Sequence[Protocol], name: str) -> Protocol:
    """A protocol by name (or file name without ``.json``), case-insensitive; KeyError lists the known ones."""
    want = name.strip().lower()
    for p in protocols:
        if p.name.lower() == want or (p.source and Path(p.source).stem.lower() == want):
            return p
    raise KeyError(f"no hanging protocol {name!r}; known: {', '.join(sorted(p.name for p in protocols))}")


# ---------------------------------------------------------------- matching


def _values(rule: Mapping[str, Any], key: str) -> list[str]:
    v = rule.get(key)
    if v is None:
        return []
    return [str(x).upper() for x in (v if isinstance(v, list) else [v])]


def selects(rule: Mapping[str, Any], s: DisplaySet, primary: str = "") -> bool:
    """True when display set ``s`` satisfies selector ``rule``."""
    study = rule.get("study", "current")
    if (study == "current" and s.prior) or (study == "prior" and not s.prior):
        return False
    for key, value in (("modality", s.modality), ("view_position", s.view_position),
                       ("laterality", s.laterality), ("orientation", s.orientation)):
        allowed = _values(rule, key)
        if allowed and value.upper() not in allowed:
            return False
    patterns = _values(rule, "body_part")
    if patterns and not any(fnmatch.fnmatchcase(s.body_part, p) for p in patterns):
        return False
    if "description" in rule and not re.search(str(rule["description"]), s.description, re.IGNORECASE):
        return False
    if "min_images" in rule and s.images < int(rule["min_images"]):
        return False
    if "max_images" in rule and s.images > int(rule["max_images"]):
        return False
    if "localizer" in rule and bool(rule["localizer"]) != s.localizer:
        return False
    return not (rule.get("primary") and s.modality != primary)


def _ordered(sets: Sequence[DisplaySet], order: str) -> list[DisplaySet]:
    big = 1 << 31
    if order == "series":
        return sorted(sets, key=lambda s: (s.prior, s.series_number if s.series_number is not None else big))
    # Largest first; among equals the series order (sorted() is stable).
    return sorted(sets, key=lambda s: (s.prior, s.localizer, -s.images))


def _pick(rule: Mapping[str, Any], sets: Sequence[DisplaySet], used: set[str], primary: str) -> DisplaySet | None:
    for s in _ordered(sets, str(rule.get("order", "largest"))):
        if s.key not in used and selects(rule, s, primary):
            return s
    return None


def matches(protocol: Protocol, sets: Sequence[DisplaySet], primary: str | None = None) -> bool:
    """True when ``protocol``'s ``match`` holds for these display sets."""
    primary = primary_modality(sets) if primary is None else primary
    match = protocol.match
    modalities = _values(match, "modality")
    if modalities and primary not in modalities:
        return False
    parts = _values(match, "body_part")
    if parts and not any(fnmatch.fnmatchcase(s.body_part, p) for s in sets if not s.prior for p in parts):
        return False
    used: set[str] = set()
    for rule in match.get("requires", []):
        s = _pick(rule, sets, used, primary)
        if s is None:
            return False
        used.add(s.key)
    count = match.get("count")
    if count:
        n = sum(1 for s in sets if selects(count.get("select", {}), s, primary))
        if n < int(count.get("min", 0)) or ("max" in count and n > int(count["max"])):
            return False
    return True


@dataclass(frozen=True)
class Hanging:
    """The result: a layout, and what each of its viewports shows (row by row)."""

    protocol: str
    layout: str
    viewports: tuple[DisplaySet | None, ...]
    active: int = 0


def choose(protocols: Sequence[Protocol], sets: Sequence[DisplaySet]) -> Protocol | None:
    """The matching protocol of highest priority (the first listed among equals)."""
    primary = primary_modality(sets)
    best: Protocol | None = None
    for p in protocols:
        if matches(p, sets, primary) and (best is None or p.priority > best.priority):
            best = p
    return best


def hang(sets: Sequence[DisplaySet], protocols: Sequence[Protocol], layout: str | None = None,
         protocol: str | None = None) -> Hanging:
    """Hang ``sets``: by the named ``protocol``, else the best matching one.

    ``layout`` (``"RxC"``) overrides the protocol's; viewports left empty by the protocol's
    rules get the largest remaining display sets, primary modality and current study
    first, localizers last.

    Raises
    ------
    KeyError
        ``protocol`` names no known protocol.
    ProtocolError
        ``layout`` is malformed.
    """
    chosen = find_protocol(protocols, protocol) if protocol else choose(protocols, sets)
    rows, cols = check_layout((layout or (chosen.layout if chosen else "1x1")).lower(), "layout")
    n = rows * cols
    primary = primary_modality(sets)
    rules = list(chosen.viewports if chosen else ())
    active = chosen.active if chosen and 0 <= chosen.active < len(rules) else 0
    if len(rules) > n:
        # Fewer viewports than the protocol has: its active one (the stack) comes first.
        rules = [rules[active]] + rules[:active] + rules[active + 1:]
        active = 0
    used: set[str] = set()
    slots: list[DisplaySet | None] = []
    for rule in rules[:n]:
        s = _pick(rule, sets, used, primary)
        if s is not None:
            used.add(s.key)
        slots.append(s)
    slots += [None] * (n - len(slots))
    # Empty viewports: the largest remaining stacks, of the primary modality first.
    rest = sorted((s for s in sets if s.key not in used),
                  key=lambda s: (s.prior, s.localizer, s.modality != primary, -s.images))
    for i, slot in enumerate(slots):
        if slot is None and rest:
            slots[i] = rest.pop(0)
    if slots[active] is None:
        active = 0
    return Hanging(chosen.name if chosen else "largest stacks", f"{rows}x{cols}", tuple(slots), active)


# ---------------------------------------------------------------- saving


def protocol_from_arrangement(name: str, layout: str, shown: Sequence[DisplaySet | None],
                              sets: Sequence[DisplaySet], active: int = 0) -> Protocol:
    """A protocol reproducing what is on screen: each viewport's display set described by
    modality, localizer or not, orientation, view and laterality, and its series description
    (so the same arrangement hangs for the next study of this kind)."""
    primary = primary_modality(sets)
    rules: list[dict[str, Any]] = []
    for s in shown:
        if s is None:
            rules.append({"modality": ["__none__"]})  # keeps the viewport empty
            continue
        rule: dict[str, Any] = {"modality": [s.modality], "localizer": s.localizer}
        if s.prior:
            rule["study"] = "prior"
        if s.orientation:
            rule["orientation"] = [s.orientation]
        if s.view_position:
            rule["view_position"] = [s.view_position]
        if s.laterality:
            rule["laterality"] = [s.laterality]
        if s.description:
            rule["description"] = "^" + re.escape(s.description) + "$"
        rules.append(rule)
    match: dict[str, Any] = {"modality": [primary]} if primary else {}
    return Protocol(name, layout, tuple(rules), match, priority=100, active=active)


def save_protocol(protocol: Protocol, folder: Path) -> Path:
    """Write ``protocol`` as ``<folder>/<safe name>.json`` (creating the folder); returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", protocol.name).strip("_") or "protocol"
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(protocol.to_json(), indent=2) + "\n", encoding="utf-8")
    return path
