"""The study library: a SQLite database of every study opened, retrieved or received (no Qt).

:class:`~viewer.library.db.Library` holds patients, studies, series and instances with
where each file came from; :mod:`viewer.library.query` searches it and lists it; the
use cases that feed it (opening media, retrieves, our storage SCP, import and export)
are in :mod:`viewer.tasks.library`. Files on user media are referenced, never copied or
deleted; the local store's files are ours.
"""

from viewer.library.db import Entry, IndexReport, Library, Provenance, SourceKind, default_path
from viewer.library.query import SeriesRow, StudyFilter, StudyRow
from viewer.library.schema import VERSION, LibraryError

__all__ = ["VERSION", "Entry", "IndexReport", "Library", "LibraryError", "Provenance", "SeriesRow", "SourceKind",
           "StudyFilter", "StudyRow", "default_path"]
