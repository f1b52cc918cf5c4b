"""The outcome of a print job: what the printer said about the job and each film."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from viewer.film.enums import ExecutionStatus


@dataclass
class FilmResult:
    """What happened to one film."""

    number: int
    film_box_uid: str = ""
    print_job_uid: str = ""
    execution_status: str = ""
    execution_status_info: str = ""
    image_boxes: int = 0


@dataclass
class PrintReport:
    """The outcome of a print job: printer status, per-film job status, warnings."""

    printer: str
    printer_status: str = ""
    printer_status_info: str = ""
    accepted: dict[str, bool] = field(default_factory=dict)
    films: list[FilmResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: what was changed because the printer refused it (retried in the same association)
    adapted: list[str] = field(default_factory=list)
    #: profile fields learnt from the refusals (e.g. {"supports_12_bit": False})
    learned: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No film failed."""
        return all(f.execution_status != ExecutionStatus.FAILURE.value for f in self.films)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``print --json``)."""
        return dataclasses.asdict(self) | {"ok": self.ok}
