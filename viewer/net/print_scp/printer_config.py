"""The virtual printer's own configuration: what our print SCP accepts (not the print
client's printer profiles, :class:`viewer.film.profile.PrinterProfile`, which describe
remote printers we send to).

A configuration (a "profile" on the command line) is a JSON file in
``resources/print_scp_profiles/`` (house rule 9), named by its file stem
(``--profile default``) or given as a path. Its lists play the role of a printer's
conformance statement (PS3.4 H.4, and DCMTK's printers.cfg): values outside them are
refused with 0x0106 (Invalid attribute value).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from viewer.errors import UsageError
from viewer.resources import resource_path

PROFILE_DIR = resource_path("print_scp_profiles", must_exist=False)


@dataclass(frozen=True)
class VirtualPrinterConfig:
    """What the virtual printer supports; see ``resources/print_scp_profiles/default.json``."""

    name: str = "default"
    description: str = ""
    printer_name: str = "VIEWERPRINT"
    manufacturer: str = "dicom-viewer"
    model: str = "Virtual Film Printer"
    serial_number: str = "0001"
    software_versions: str = "dicom-viewer print-scp"
    #: what N-GET Printer reports (PS3.3 C.13.9.1): NORMAL, WARNING or FAILURE, and a defined term
    printer_status: str = "NORMAL"
    printer_status_info: str = "NORMAL"
    color: bool = True
    supports_12bit: bool = True
    presentation_lut: bool = True
    presentation_lut_match_required: bool = False
    annotation: bool = True
    print_job: bool = True
    film_session_print: bool = True
    standard_formats: tuple[str, ...] = ("1,1", "1,2", "2,2", "2,3", "3,3", "3,4", "4,4", "4,5")
    row_col_max: int = 6
    film_sizes: tuple[str, ...] = ("8INX10IN", "10INX12IN", "11INX14IN", "14INX14IN", "14INX17IN", "A4", "A3")
    medium_types: tuple[str, ...] = ("PAPER", "CLEAR FILM", "BLUE FILM")
    film_destinations: tuple[str, ...] = ("MAGAZINE", "PROCESSOR")
    magnification_types: tuple[str, ...] = ("REPLICATE", "BILINEAR", "CUBIC", "NONE")
    smoothing_types: tuple[str, ...] = ("NONE", "MEDIUM", "SHARP")
    resolution_ids: tuple[str, ...] = ("STANDARD", "HIGH")
    border_densities: tuple[str, ...] = ("BLACK", "WHITE")
    empty_image_densities: tuple[str, ...] = ("BLACK", "WHITE")
    min_density: int = 20
    max_density: int = 320
    annotation_formats: dict[str, tuple[int, str]] = field(default_factory=dict)

    def allows_display_format(self, value: str) -> bool:
        """Whether an Image Display Format (2010,0010) is in the profile (PS3.3 C.13.8)."""
        kind, _, rest = value.partition("\\")
        kind = kind.strip().upper()
        try:
            numbers = [int(n) for n in rest.split(",")]
        except ValueError:
            return False
        if kind == "STANDARD":
            return len(numbers) == 2 and f"{numbers[0]},{numbers[1]}" in self.standard_formats
        if kind in ("ROW", "COL"):
            return (bool(numbers) and all(1 <= n <= self.row_col_max for n in numbers)
                    and len(numbers) <= self.row_col_max)
        return False


def box_count(display_format: str) -> int:
    """Number of image boxes of an Image Display Format (PS3.3 C.13.8); 0 if not understood."""
    kind, _, rest = display_format.partition("\\")
    try:
        numbers = [int(n) for n in rest.split(",")]
    except ValueError:
        return 0
    if kind.strip().upper() == "STANDARD" and len(numbers) == 2:
        return numbers[0] * numbers[1]
    return sum(numbers)


def available_profiles() -> list[str]:
    """Names of the bundled profiles."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json"))


def load_profile(name_or_path: str = "default") -> VirtualPrinterConfig:
    """Load a profile by bundled name or JSON path; raise :class:`UsageError` if unusable."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path.lower()}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        if name_or_path.lower() == "default" and not PROFILE_DIR.is_dir():
            # Installed without the resources folder: the built-in defaults still make a printer.
            return VirtualPrinterConfig(annotation_formats={"TOP": (2, "TOP"), "BOTTOM": (2, "BOTTOM")})
        raise UsageError(f"no printer profile {name_or_path!r} (bundled: {', '.join(available_profiles())})") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"printer profile {path}: {exc}") from None
    known = {f.name for f in fields(VirtualPrinterConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UsageError(f"printer profile {path}: unknown keys {', '.join(unknown)}")
    values: dict[str, object] = {"name": path.stem}
    for key, value in data.items():
        if key == "annotation_formats":
            value = {str(k).upper(): (int(v[0]), str(v[1]).upper()) for k, v in value.items()}
        elif isinstance(value, list):
            value = tuple(str(v).upper() for v in value)
        values[key] = value
    return VirtualPrinterConfig(**values)  # type: ignore[arg-type]
