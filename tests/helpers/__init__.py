"""Code shared by the tests: data builders, network helpers, the real peers, GUI drivers.

Test modules import from here (``from tests.helpers.net import store_all``), never from each
other; shared fixtures live in ``conftest.py`` files. Modules:

* :mod:`tests.helpers.instances` -- an empty instance with its file meta, the start of a generated file;
* :mod:`tests.helpers.ct` -- small CT data sets built in memory;
* :mod:`tests.helpers.ct_volume` -- a CT series written from a numpy volume (MPR);
* :mod:`tests.helpers.overlays` -- overlay planes (60xx) added to an image or a presentation state;
* :mod:`tests.helpers.gsps` -- an image and a Grayscale Softcopy Presentation State on it;
* :mod:`tests.helpers.archives` -- ZIP archives built in memory;
* :mod:`tests.helpers.gen_studies` -- studies with stated geometry (CT with a localizer, ...);
* :mod:`tests.helpers.studies` -- studies written from corpus files with fresh UIDs, and the
  deterministic two-patient PACS data set;
* :mod:`tests.helpers.net` -- a pynetdicom C-GET peer, a C-STORE sender, a C-GET runner,
  waiting for a dropped connection, the fast path switch;
* :mod:`tests.helpers.scripted_peer` -- a raw-socket DICOM server that misbehaves on cue;
* :mod:`tests.helpers.peers` -- the real peers (DCMTK, Orthanc) as a pytest plugin, free ports;
* :mod:`tests.helpers.dcmtk_print` -- DCMTK's reference print SCU driven against a port;
* :mod:`tests.helpers.print_scu` -- raw pynetdicom print SCUs and image boxes for our print SCP;
* :mod:`tests.helpers.orthanc` -- reading back what Orthanc stored, a plain C-FIND;
* :mod:`tests.helpers.ui` -- opening media in the main window and real mouse drags;
* :mod:`tests.helpers.render` -- pydicom's windowing as the oracle of rendered pixels.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
#: The copied shared corpus (see tests/data/PROVENANCE.md).
CORPUS = DATA / "corpus"


def manifest() -> list[dict[str, str]]:
    """The rows of the corpus manifest (``tests/data/corpus/MANIFEST.tsv``), one per file,
    keyed by its column names (``path``, ``TransferSyntaxUID``, ``pydicom_decode``, ...)."""
    with open(CORPUS / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))
