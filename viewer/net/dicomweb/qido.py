"""QIDO-RS search (PS3.18 10.6) with the keys of a C-FIND identifier.

Matching values are sent in a form no server needs to percent-decode (:func:`wire_value`);
when that widens the match, the results are filtered here on the exact pattern.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Mapping
from urllib.parse import quote

from viewer.errors import UsageError
from viewer.net.dicomweb._http import DICOM_JSON, HttpClient

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

#: QIDO-RS resources per query level (PS3.18 10.6.1; PATIENT is not a QIDO level).
LEVEL_RESOURCE = {"STUDY": "studies", "SERIES": "series", "IMAGE": "instances", "INSTANCE": "instances"}


def keys_from_identifier(identifier: "Dataset") -> tuple[str, dict[str, str]]:
    """(level, keys) for :meth:`QidoClient.search` from a C-FIND identifier.

    Sequence keys have no QIDO-RS form (PS3.18 8.3.4.1 matches top-level attributes) and
    are left out with a log message; multi-valued matching values become lists
    (``\\`` -> ``,``, PS3.18 8.3.4.6.3 UID list matching).
    """
    level = str(identifier.get("QueryRetrieveLevel", "STUDY") or "STUDY")
    keys: dict[str, str] = {}
    for elem in identifier:
        if elem.keyword == "QueryRetrieveLevel" or elem.tag.group in (0x0000, 0x0002):
            continue
        if elem.VR == "SQ":
            log.info("QIDO-RS has no sequence matching: %s left out", elem.keyword or elem.tag)
            continue
        value = elem.value
        if value is None or value == "":
            text = ""
        elif elem.VM > 1:
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        keys[elem.keyword or f"{elem.tag:08X}"] = text
    return level, keys


class QidoClient(HttpClient):
    """QIDO-RS on one DICOMweb service (constructed as :class:`._http.HttpClient`)."""

    def search(self, level: str, keys: Mapping[str, str] | None = None, *, study_uid: str | None = None,
               series_uid: str | None = None, limit: int | None = None,
               fuzzy: bool = False) -> list["Dataset"]:
        """QIDO-RS search (PS3.18 10.6) with the same keys as a C-FIND identifier.

        Parameters
        ----------
        level : {"STUDY", "SERIES", "IMAGE"}
            Query/Retrieve level; "INSTANCE" is accepted for "IMAGE".
        keys : mapping of str to str
            Keyword (or ``ggggeeee`` tag) -> value. A non-empty value is a matching key
            (with DICOM wildcards ``*``/``?`` and date ranges, PS3.18 8.3.4); an empty value
            is a return key, asked for with ``includefield``.
        study_uid, series_uid : str, optional
            Hierarchical search inside a study / series (``studies/{uid}/series``).
        limit : int, optional
        fuzzy : bool
            ``fuzzymatching=true`` for person names.

        Returns
        -------
        list of pydicom.dataset.Dataset
            One per match, as the server returned it (bulk data left out).
        """
        from pydicom.datadict import keyword_for_tag, tag_for_keyword

        level = level.upper()
        if level not in LEVEL_RESOURCE:
            raise UsageError(f"QIDO-RS has no level {level!r}: use STUDY, SERIES or IMAGE")
        keys = dict(keys or {})
        study_uid = study_uid or keys.pop("StudyInstanceUID", None) or None
        if level in ("IMAGE", "INSTANCE"):
            series_uid = series_uid or keys.pop("SeriesInstanceUID", None) or None
        params: list[tuple[str, str]] = []
        post: list[tuple[str, re.Pattern[str]]] = []
        for key, value in keys.items():
            if key == "QueryRetrieveLevel":
                continue
            name = key
            if re.fullmatch(r"[0-9A-Fa-f]{8}", key):
                name = keyword_for_tag(int(key, 16)) or key.upper()
            elif tag_for_keyword(key) is None:
                raise UsageError(f"unknown DICOM keyword in query: {key}")
            if value in ("", None):
                params.append(("includefield", name))
                continue
            text = str(value)
            sent = wire_value(text)
            if sent != text and not fuzzy:  # matched locally on the exact pattern, see wire_value
                post.append((name, _wildcard_pattern(text)))
                params.append(("includefield", name))
            params.append((name, sent))
        if limit:
            params.append(("limit", str(limit)))
        if fuzzy:
            params.append(("fuzzymatching", "true"))
        # PS3.18 10.6.1.2: the resource path narrows the search by study (and series).
        if level == "STUDY":
            url = f"{self.base}/studies"
            if study_uid:
                params.append(("StudyInstanceUID", study_uid))
        elif level == "SERIES":
            url = f"{self.base}/studies/{quote(study_uid)}/series" if study_uid else f"{self.base}/series"
        elif study_uid and series_uid:
            url = f"{self.base}/studies/{quote(study_uid)}/series/{quote(series_uid)}/instances"
        else:
            url = f"{self.base}/studies/{quote(study_uid)}/instances" if study_uid else f"{self.base}/instances"
            if series_uid:
                params.append(("SeriesInstanceUID", series_uid))
        rsp = self._request("GET", url, params=params, headers={"Accept": DICOM_JSON}, stream=True)
        found = self._datasets(rsp)
        return [d for d in found if all(_matches(d, name, pat) for name, pat in post)]


def wire_value(text: str) -> str:
    """A matching value that needs no percent-encoding: other characters become '*'.

    The characters kept are RFC 3986 unreserved, sub-delims other than '&', '=', '+', and
    ':@/?' -- what urllib3 never percent-encodes. Orthanc 1.10 with DICOMweb plugin 1.7 does
    not percent-decode query values (``PatientName=A%5EB`` matches nothing, ``A^B`` would,
    but urllib3 always encodes '^'), so a '^' (PN component separator), a space, or a
    non-ASCII letter could never match. '*' is the wildcard (PS3.18 8.3.4.6.1, PS3.4
    C.2.2.2.4) -- not '?', which a server comparing UTF-8 bytes would match against one byte
    of a multi-byte letter: the server returns a superset, and :func:`_matches` keeps only
    the true matches.
    """
    return re.sub(r"\*{2,}", "*", re.sub(r"[^A-Za-z0-9\-._~!$'()*,;:@/?]+", "*", text))


def _wildcard_pattern(text: str) -> re.Pattern[str]:
    """DICOM wildcard matching (PS3.4 C.2.2.2.4) as a regex; case-insensitive as PN often is."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(rx, re.IGNORECASE | re.DOTALL)


def _matches(ds: "Dataset", keyword: str, pattern: re.Pattern[str]) -> bool:
    value = ds.get(keyword)
    if value is None:
        return True  # not returned: trust the server
    values = list(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    return any(pattern.fullmatch(str(v)) for v in values)
