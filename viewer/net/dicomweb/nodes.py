"""DICOMweb on a configured :class:`viewer.config.DicomWebNode`, shaped as the DIMSE calls
are (an iterator of matches, a round-trip time, retrieve progress steps) so the PACS panel
treats both alike."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import Cancelled, UsageError
from viewer.net.dicomweb.client import DicomWebClient
from viewer.net.dicomweb.target import WebTarget

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from viewer.config import DicomWebNode
    from viewer.net.dicomweb.wado import Store
    from viewer.net.progress import RetrieveProgress


def search_node(node: DicomWebNode, level: str, keys: Mapping[str, str],
                token: CancelToken | None = None) -> Iterator[Dataset]:
    """QIDO-RS search on a configured ``DicomWebNode``, as an iterator (like C-FIND).

    ``keys`` is the C-FIND key mapping of the PACS panel (empty values are return keys).
    """
    with DicomWebClient(WebTarget.from_node(node)) as client:
        results = client.search(level, keys)
    for ds in results:
        if is_cancelled(token):
            raise Cancelled("query cancelled")
        yield ds


def ping_node(node: DicomWebNode, token: CancelToken | None = None) -> float:
    """Round-trip time (s) of a minimal QIDO-RS search (``studies?limit=1``): the DICOMweb
    counterpart of C-ECHO. Raises :class:`NetError` as :meth:`DicomWebClient.search`."""
    import time

    with DicomWebClient(WebTarget.from_node(node)) as client:
        t0 = time.perf_counter()
        client.search("STUDY", {}, limit=1)
        return time.perf_counter() - t0


def retrieve_node(node: DicomWebNode, level: str, uids: Mapping[str, str], store: Path | Store,
                  token: CancelToken | None = None) -> Iterator["RetrieveProgress"]:
    """WADO-RS retrieve on a ``DicomWebNode`` of the study/series/instance named by ``uids``.

    Yields :class:`viewer.net.progress.RetrieveProgress` steps (one per instance written,
    then a final one), as the DIMSE retrieve does, so the panel shows both alike. At
    PATIENT level (``PatientID`` only) every study of the patient is retrieved.
    """
    from viewer.net.progress import RetrieveProgress

    level = level.upper()
    study = uids.get("StudyInstanceUID") or None
    series = uids.get("SeriesInstanceUID") if level in ("SERIES", "IMAGE") else None
    sop = uids.get("SOPInstanceUID") if level == "IMAGE" else None
    received = 0
    with DicomWebClient(WebTarget.from_node(node)) as client:
        if study:
            studies = [study]
        elif uids.get("PatientID"):
            studies = [str(d.StudyInstanceUID) for d in client.search("STUDY", {"PatientID": uids["PatientID"]})
                       if "StudyInstanceUID" in d]
        else:
            raise UsageError("nothing to retrieve: no Study Instance UID or Patient ID")
        for uid in studies:
            for path in client.iter_retrieve(store, uid, series, sop, cancel=token):
                received += 1
                yield RetrieveProgress(completed=received, files=[path], received=received)
    yield RetrieveProgress(completed=received, status=0x0000, final=True, received=received)
