"""The virtual film printer use case: a print SCP (PS3.4 H) whose films become image files.

Joins :mod:`viewer.net.print_scp` (the protocol, one printer profile) and
:mod:`viewer.film.output` (received films rendered to PNG/PDF/DICOM at a resolution). The GUI's
virtual printer dialog and the ``print-scp`` command both start one here.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from viewer.film.output import FilmSink, make_sink
from viewer.net.print_scp import PrintServer, available_profiles, load_profile

__all__ = ["LOGGERS", "VirtualPrinter", "printer_profile_names", "start_virtual_printer"]

#: Loggers whose INFO lines (associations, messages, films written) are the printer's activity.
LOGGERS = ("viewer.net.print_scp", "viewer.film.output")


def printer_profile_names() -> list[str]:
    """Names of the printer profiles a virtual printer can imitate."""
    return list(available_profiles())


@dataclass
class VirtualPrinter:
    """A running virtual printer: the print SCP and where its films go."""

    server: PrintServer
    sink: FilmSink

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        """The port listened on (the real one when 0 was asked)."""
        return self.server.port

    @property
    def aet(self) -> str:
        return self.server.aet

    @property
    def films_printed(self) -> int:
        return self.server.service.films_printed

    @property
    def jobs_failed(self) -> int:
        return self.server.service.jobs_failed

    @property
    def open_associations(self) -> int:
        return self.server.service.open_associations

    def stop(self) -> None:
        """Stop listening and release the port (associations in progress are aborted)."""
        self.server.stop()


def start_virtual_printer(profile_name: str, out_dir: Path, *, aet: str = "VIEWERPRINT", host: str = "0.0.0.0",
                          port: int = 11110, dpi: int = 150, timeout: float = 30.0, max_associations: int = 20,
                          ssl_context: ssl.SSLContext | None = None,
                          allowed_calling: list[str] | None = None) -> VirtualPrinter:
    """Start a print SCP imitating ``profile_name``; films are written into ``out_dir``.
    ``allowed_calling``: only these calling AE titles may associate (None: any).

    Raises
    ------
    ViewerError
        Unknown profile, or the port cannot be listened on (with the reason).
    OSError
        ``out_dir`` cannot be created.
    """
    profile = load_profile(profile_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    sink = make_sink(out_dir, profile.min_density, profile.max_density, profile.annotation_formats, dpi)
    server = PrintServer(sink.print_job, profile, aet=aet, host=host, port=port, timeout=timeout,
                         max_associations=max_associations, box_size_mm=sink.box_size_mm, ssl_context=ssl_context,
                         allowed_calling=allowed_calling)
    server.start()
    return VirtualPrinter(server, sink)
