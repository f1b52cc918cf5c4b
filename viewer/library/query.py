"""Reading the library: study search, the patient > study > series listing, priors.

Searches are single SQL statements over indexed, pre-folded columns
(:mod:`viewer.library.text`), so they answer in milliseconds over tens of thousands of
instances. Results are plain dataclasses, ready for JSON or a table model.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from viewer.library.text import fold, like_pattern, word_patterns


@dataclass(frozen=True)
class StudyFilter:
    """What to look for; every given criterion must match (an empty filter lists all).

    Attributes
    ----------
    text
        Free text: each word must match the start of a name word (any PN component
        group) or appear in the Patient ID, accession number, study ID, study or series
        description. ``*`` and ``?`` are wildcards.
    patient
        Patient's name words only (any component group; case and accents ignored).
    patient_id, accession
        Substring of the Patient ID / Accession Number (``*``/``?`` wildcards).
    date_from, date_to
        Inclusive Study Date range as DA values (``YYYYMMDD``); empty means open.
    modality
        A series of the study has this modality (``CT``, ``MR``...).
    description
        Substring of the study or a series description.
    limit
        At most this many studies (newest first); 0 for all.
    """

    text: str = ""
    patient: str = ""
    patient_id: str = ""
    accession: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    description: str = ""
    limit: int = 0


@dataclass
class SeriesRow:
    series_instance_uid: str
    series_number: int | None
    series_description: str
    modality: str
    body_part: str
    instances: int
    frames: int
    online: int

    @property
    def offline(self) -> bool:
        return self.online < self.instances


@dataclass
class StudyRow:
    """A study with its patient's attributes and instance counts."""

    study_instance_uid: str
    study_date: str
    study_time: str
    study_description: str
    accession_number: str
    study_id: str
    modalities: list[str]
    series_count: int
    instances: int
    online: int
    patient_id: str
    issuer_of_patient_id: str
    patient_name: str
    patient_birth_date: str
    patient_sex: str
    sources: list[str] = field(default_factory=list)
    #: For priors: True when matched by name and birth date only (IDs differ).
    guess: bool = False

    @property
    def offline(self) -> bool:
        """Some of the study's files are not there (media taken out)."""
        return self.online < self.instances

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["offline"] = self.offline
        return data


_STUDY_COLUMNS = """
    st.id, st.study_uid, st.study_date, st.study_time, st.description, st.accession, st.study_id,
    p.patient_id, p.issuer, p.name, p.birth_date, p.sex
"""


def _where(flt: StudyFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for pattern in word_patterns(flt.patient):
        clauses.append("p.name_fold LIKE ? ESCAPE '\\'")
        args.append(pattern)
    for word in fold(flt.text).split():
        # A word of PN separators only (``^``, ``=``) names no name word: it can still be in an ID.
        name_like = word_patterns(word)
        name_clause = " AND ".join(["p.name_fold LIKE ? ESCAPE '\\'"] * len(name_like)) or "0"
        text_like = like_pattern(word)
        clauses.append(f"(({name_clause}) OR p.patient_id LIKE ? ESCAPE '\\' "
                       "OR st.description_fold LIKE ? ESCAPE '\\' "
                       "OR EXISTS (SELECT 1 FROM series s2 WHERE s2.study = st.id "
                       "AND s2.description_fold LIKE ? ESCAPE '\\'))")
        args += [*name_like, text_like, text_like, text_like]
    if flt.patient_id:
        clauses.append("p.patient_id LIKE ? ESCAPE '\\'")
        args.append(like_pattern(flt.patient_id))
    if flt.accession:
        clauses.append("st.accession LIKE ? ESCAPE '\\'")
        args.append(like_pattern(flt.accession))
    if flt.date_from:
        clauses.append("st.study_date >= ? AND st.study_date != ''")
        args.append(flt.date_from)
    if flt.date_to:
        clauses.append("st.study_date <= ? AND st.study_date != ''")
        args.append(flt.date_to)
    if flt.modality:
        # IN (a set) rather than a correlated EXISTS: SQLite would walk the modality index once per study.
        clauses.append("st.id IN (SELECT study FROM series WHERE modality = ?)")
        args.append(flt.modality.strip().upper())
    if flt.description:
        pattern = like_pattern(fold(flt.description))
        clauses.append("(st.description_fold LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM series s4 "
                       "WHERE s4.study = st.id AND s4.description_fold LIKE ? ESCAPE '\\'))")
        args += [pattern, pattern]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _study_rows(conn: sqlite3.Connection, sql_tail: str, args: list[Any]) -> list[StudyRow]:
    rows = conn.execute(f"SELECT {_STUDY_COLUMNS} FROM studies st JOIN patients p ON p.id = st.patient {sql_tail}",
                        args).fetchall()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    stats: dict[int, tuple[int, int, int]] = {}
    modalities: dict[int, set[str]] = {}
    sources: dict[int, set[str]] = {}
    kinds = dict(conn.execute("SELECT id, kind FROM sources").fetchall())  # a few rows
    for i in range(0, len(ids), 900):
        part = ids[i:i + 900]
        marks = ",".join("?" * len(part))
        # One pass over the studies' instances: counts and the sources they came from.
        for study, nseries, ninst, nonline, source_ids in conn.execute(
                "SELECT se.study, COUNT(DISTINCT se.id), COUNT(i.id), TOTAL(i.online), GROUP_CONCAT(DISTINCT i.source) "
                f"FROM series se LEFT JOIN instances i ON i.series = se.id WHERE se.study IN ({marks}) "
                "GROUP BY se.study", part):
            stats[study] = (int(nseries), int(ninst), int(nonline))
            sources[study] = {kinds[int(s)] for s in (source_ids or "").split(",") if s and int(s) in kinds}
        for study, modality in conn.execute(
                f"SELECT DISTINCT study, modality FROM series WHERE study IN ({marks}) AND modality != ''", part):
            modalities.setdefault(study, set()).add(modality)
    out = []
    for (sid, uid, date, time_, desc, acc, study_id, pid, issuer, name, birth, sex) in rows:
        nseries, ninst, nonline = stats.get(sid, (0, 0, 0))
        out.append(StudyRow(uid, date, time_, desc, acc, study_id, sorted(modalities.get(sid, ())), nseries, ninst,
                            nonline, pid, issuer, name, birth, sex, sorted(sources.get(sid, ()))))
    return out


def find_studies(conn: sqlite3.Connection, flt: StudyFilter = StudyFilter()) -> list[StudyRow]:
    """Studies matching ``flt``, newest first (Study Date, Time), then by UID."""
    where, args = _where(flt)
    tail = f"{where} ORDER BY st.study_date DESC, st.study_time DESC, st.study_uid"
    if flt.limit:
        tail += f" LIMIT {int(flt.limit)}"
    return _study_rows(conn, tail, args)


def search(conn: sqlite3.Connection, text: str, limit: int = 0) -> list[StudyRow]:
    """Free-text search (see :attr:`StudyFilter.text`)."""
    return find_studies(conn, StudyFilter(text=text, limit=limit))


def series_of(conn: sqlite3.Connection, study_uid: str) -> list[SeriesRow]:
    """The series of a study with their instance, frame and online counts, by Series Number."""
    rows = conn.execute(
        "SELECT se.series_uid, se.number, se.description, se.modality, se.body_part, COUNT(i.id), "
        "TOTAL(i.frames), TOTAL(i.online) FROM series se JOIN studies st ON st.id = se.study "
        "LEFT JOIN instances i ON i.series = se.id WHERE st.study_uid = ? GROUP BY se.id "
        "ORDER BY se.number IS NULL, se.number, se.description, se.series_uid", (study_uid,)).fetchall()
    return [SeriesRow(uid, num, desc, mod, body, int(n), int(frames), int(online))
            for uid, num, desc, mod, body, n, frames, online in rows]


def study(conn: sqlite3.Connection, study_uid: str) -> StudyRow | None:
    """One study by its UID."""
    rows = _study_rows(conn, "WHERE st.study_uid = ?", [study_uid])
    return rows[0] if rows else None


def priors(conn: sqlite3.Connection, study_uid: str) -> list[StudyRow]:
    """Other studies of the same patient, newest first.

    Same patient means the same Patient ID within the same issuer (PS3.3 C.7.1.1: the ID
    is unique only within its issuer). Where IDs differ (another site, another issuer),
    the same alphabetic name and the same birth date count too, but those studies are
    marked ``guess``: the viewer cannot know it is the same person.
    """
    row = conn.execute("SELECT p.patient_id, p.issuer, p.name_alphabetic, p.birth_date FROM studies st "
                       "JOIN patients p ON p.id = st.patient WHERE st.study_uid = ?", (study_uid,)).fetchone()
    if row is None:
        return []
    pid, issuer, alpha, birth = row
    sure = _study_rows(conn, "WHERE p.patient_id = ? AND p.issuer = ? AND p.patient_id != '' AND st.study_uid != ? "
                             "ORDER BY st.study_date DESC, st.study_time DESC", [pid, issuer, study_uid])
    guesses: list[StudyRow] = []
    name_key = fold(alpha).replace("^", " ").split()
    if name_key and birth:
        candidates = _study_rows(conn, "WHERE p.birth_date = ? AND st.study_uid != ? AND NOT "
                                       "(p.patient_id = ? AND p.issuer = ? AND p.patient_id != '') "
                                       "ORDER BY st.study_date DESC, st.study_time DESC",
                                 [birth, study_uid, pid, issuer])
        for cand in candidates:
            if fold(cand.patient_name.split("=")[0]).replace("^", " ").split() == name_key:
                cand.guess = True
                guesses.append(cand)
    both = sure + guesses
    both.sort(key=lambda s: (s.study_date, s.study_time), reverse=True)
    return both


def tree(conn: sqlite3.Connection, flt: StudyFilter = StudyFilter()) -> list[dict[str, Any]]:
    """Patients -> studies -> series with counts, for ``library list --json`` and the browser.

    Patients are keyed as in the database (ID, issuer, name); they appear in the order of
    their newest matching study.
    """
    studies = find_studies(conn, flt)
    if not studies:
        return []
    series_rows: dict[str, list[SeriesRow]] = {}
    uids = [s.study_instance_uid for s in studies]
    for i in range(0, len(uids), 900):
        part = uids[i:i + 900]
        for st_uid, *rest in conn.execute(
                "SELECT st.study_uid, se.series_uid, se.number, se.description, se.modality, se.body_part, "
                "COUNT(i.id), TOTAL(i.frames), TOTAL(i.online) FROM series se JOIN studies st ON st.id = se.study "
                f"LEFT JOIN instances i ON i.series = se.id WHERE st.study_uid IN ({','.join('?' * len(part))}) "
                "GROUP BY se.id ORDER BY se.number IS NULL, se.number, se.description, se.series_uid", part):
            uid, num, desc, mod, body, n, frames, online = rest
            series_rows.setdefault(st_uid, []).append(
                SeriesRow(uid, num, desc, mod, body, int(n), int(frames), int(online)))
    patients: dict[tuple[str, str, str], dict[str, Any]] = {}
    for s in studies:
        key = (s.patient_id, s.issuer_of_patient_id, s.patient_name)
        patient = patients.get(key)
        if patient is None:
            patient = patients[key] = {
                "patient_id": s.patient_id, "issuer_of_patient_id": s.issuer_of_patient_id,
                "patient_name": s.patient_name, "patient_birth_date": s.patient_birth_date,
                "patient_sex": s.patient_sex, "studies": []}
        data = s.to_dict()
        for k in ("patient_id", "issuer_of_patient_id", "patient_name", "patient_birth_date", "patient_sex", "guess"):
            data.pop(k)
        data["series"] = [{**asdict(se), "offline": se.offline} for se in series_rows.get(s.study_instance_uid, [])]
        patient["studies"].append(data)
    return list(patients.values())


def recent(conn: sqlite3.Connection, limit: int = 10) -> list[StudyRow]:
    """Studies most recently opened (File > Recent lists studies, not files), newest first."""
    return _study_rows(conn, f"WHERE st.opened IS NOT NULL ORDER BY st.opened DESC LIMIT {int(limit)}", [])
