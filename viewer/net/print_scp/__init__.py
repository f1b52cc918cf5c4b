"""Our print SCP, the virtual film printer's DICOM front end (PS3.4 H).

* :mod:`.server`: :class:`PrintServer`, the pynetdicom server and its event handlers;
* :mod:`.service`: the Print Management service (N-CREATE/N-SET/N-GET/N-ACTION/N-DELETE);
* :mod:`.checks`: request checks against the standard and the printer's configuration;
* :mod:`.state`: the SOP instances one association creates;
* :mod:`.printer_config`: :class:`VirtualPrinterConfig`, the virtual printer's own configuration.

The defined terms it checks are :mod:`viewer.dicom.print_terms`, shared with the print client.
"""

from __future__ import annotations

from viewer.net.print_scp.printer_config import VirtualPrinterConfig, available_profiles, load_profile
from viewer.net.print_scp.server import PrintServer
from viewer.net.print_scp.state import PrintRequest

__all__ = ["PrintRequest", "PrintServer", "VirtualPrinterConfig", "available_profiles", "load_profile"]
