"""Printer profiles: a DICOM printer's address and the limits its conformance statement gives.

Profiles are JSON data files (``resources/printers/*.json``, house rule 9); the keys mirror
DCMTK's per-printer configuration (``dcmpstat.cfg``: DisplayFormat, FilmSizeID, MediumType,
Supports12Bit, SupportsPresentationLUT, PresentationLUTinFilmSession, ...). An empty list
means "the printer does not support this attribute: do not send it"; ``None`` means
"unknown: send what the user asks and let the printer judge".
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from viewer import paths
from viewer.errors import UsageError
from viewer.resources import resource_path

log = logging.getLogger(__name__)

#: Folder of the built-in profiles (``resources/printers``; wheel and bundle: see viewer.resources).
BUILTIN_DIR = resource_path("printers", must_exist=False)


@dataclass
class PrinterProfile:
    """One printer: where it is and what it accepts.

    Attributes
    ----------
    name : str
        Short unique name (file stem).
    ae_title, host, port : str, str, int
        The printer's called AE title and address.
    calling_ae_title : str
        Our AE title as this printer knows it.
    grayscale, color : bool
        Propose Basic Grayscale (1.2.840.10008.5.1.1.9) / Basic Color (…1.18) Print Meta.
    display_formats : list of str or None
        Allowed Image Display Formats in portrait (DCMTK lists ``C,R``; landscape swaps C and R).
        Entries may be ``C,R`` (meaning ``STANDARD\\C,R``) or full values such as ``ROW\\2,1``.
    film_sizes, medium_types, film_destinations, magnification_types, smoothing_types,
    border_densities, empty_image_densities, resolution_ids, configuration_information :
        Allowed values (None = unknown, [] = attribute unsupported).
    min_density, max_density : int or None
        The printer's density range in hundredths of OD.
    supports_12_bit : bool
        Whether 12-bit image boxes (Bits Stored 12) are accepted; else 8-bit.
    presentation_lut : str or None
        ``"film_box"``, ``"film_session"`` (Referenced Presentation LUT Sequence level, CP-173)
        or None when the printer has no Presentation LUT SOP class.
    presentation_lut_match_required : bool
        LUT data must have as many entries as the image bit depth allows.
    supports_requested_image_size, supports_decimate_crop, supports_trim : bool
    supports_pixel_aspect_ratio : bool or None
        Whether Pixel Aspect Ratio (0028,0034) is accepted in the image box; False: non-square
        pixels are resampled to square ones before sending; None: unknown (sent; resampled
        and sent again when the printer refuses it).
    annotation_display_formats : list of str or None
        Annotation Display Format IDs; empty = no annotation boxes; None = unknown (send as asked).
    annotation_positions : int
        Number of annotation boxes per film for the first format.
    printer_attributes : list of str
        Keywords to ask for in N-GET Printer; empty = ask for nothing (all).
    implicit_vr_only : bool
    max_pdu : int
    color_planar_configuration : int
        PS3.3 C.13.5 requires 1 (color-by-plane) in the Basic Color Image Sequence; a few
        printers want 0.
    tls, tls_ca_file, tls_cert_file, tls_key_file : bool, str, str, str
        DICOM over TLS (PS3.15 B.9): CA certificates verifying the printer, our client
        certificate and key (optional). A CA or certificate file implies ``tls``.
    """

    name: str
    ae_title: str = "PRINTSCP"
    host: str = "127.0.0.1"
    port: int = 104
    calling_ae_title: str = "VIEWER"
    description: str = ""
    grayscale: bool = True
    color: bool = False
    display_formats: list[str] | None = None
    film_sizes: list[str] | None = None
    medium_types: list[str] | None = None
    film_destinations: list[str] | None = None
    magnification_types: list[str] | None = None
    smoothing_types: list[str] | None = None
    border_densities: list[str] | None = None
    empty_image_densities: list[str] | None = None
    resolution_ids: list[str] | None = None
    configuration_information: list[str] | None = None
    min_density: int | None = None
    max_density: int | None = None
    supports_12_bit: bool = True
    presentation_lut: str | None = "film_box"
    presentation_lut_match_required: bool = False
    supports_requested_image_size: bool = False
    supports_decimate_crop: bool = False
    supports_trim: bool = True
    supports_pixel_aspect_ratio: bool | None = None
    annotation_display_formats: list[str] | None = field(default_factory=list)
    annotation_positions: int = 0
    printer_attributes: list[str] = field(default_factory=list)
    implicit_vr_only: bool = False
    max_pdu: int = 16384
    color_planar_configuration: int = 1
    tls: bool = False
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str | None = None) -> "PrinterProfile":
        """Build a profile from a JSON object, rejecting unknown keys with a clear message."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"$comment"})
        if unknown:
            raise UsageError(f"printer profile {name or data.get('name')!r}: unknown keys {', '.join(unknown)}")
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("name", name or "printer")
        if values.get("presentation_lut") not in (None, "film_box", "film_session"):
            raise UsageError(f"printer profile {values['name']!r}: "
                             "presentation_lut must be film_box, film_session or null")
        return cls(**values)

    def tls_options(self) -> Any:
        """A :class:`viewer.config.TlsOptions` when the printer is reached over TLS, else None."""
        if not (self.tls or self.tls_ca_file or self.tls_cert_file):
            return None
        from viewer.config import TlsOptions

        return TlsOptions(ca_file=self.tls_ca_file, cert_file=self.tls_cert_file, key_file=self.tls_key_file)

    def to_dict(self) -> dict[str, Any]:
        """The profile as a JSON-ready dict (for saving an edited profile)."""
        return asdict(self)

    def allowed_display_formats(self, orientation: str) -> list[str] | None:
        """Full Image Display Format values allowed in ``orientation`` (None = any).

        DCMTK's DisplayFormat lists portrait ``C,R`` pairs; in landscape it accepts them with
        C and R swapped (peers README, dcmprscp).
        """
        if self.display_formats is None:
            return None
        out = []
        for entry in self.display_formats:
            value = entry if "\\" in entry else f"STANDARD\\{entry}"
            kind, _, counts = value.partition("\\")
            if kind == "STANDARD" and str(orientation).upper() == "LANDSCAPE":
                c, _, r = counts.partition(",")
                value = f"STANDARD\\{r},{c}"
            out.append(value)
        return out


def _user_dir() -> Path:
    return paths.config_dir() / "printers"


def load_profile(path: Path) -> PrinterProfile:
    """Read one profile JSON file.

    Raises
    ------
    UsageError
        When the file is missing, not JSON, or has unknown keys.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read printer profile {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"printer profile {path}: expected a JSON object")
    return PrinterProfile.from_dict(data, name=data.get("name") or Path(path).stem)


def load_profiles(extra_dirs: list[Path] | None = None) -> dict[str, PrinterProfile]:
    """Built-in profiles, then the user's (``$XDG_CONFIG_HOME/dicom-viewer/printers``), by name.

    A user profile with the name of a built-in one replaces it. Unreadable files are
    logged and skipped, so one bad file does not hide the others.
    """
    out: dict[str, PrinterProfile] = {}
    for folder in [BUILTIN_DIR, _user_dir(), *(extra_dirs or [])]:
        for path in sorted(Path(folder).glob("*.json")):
            try:
                profile = load_profile(path)
            except UsageError as exc:
                log.warning("%s", exc)
                continue
            out[profile.name] = profile
    return out


def save_profile(profile: PrinterProfile, folder: Path | None = None) -> Path:
    """Write ``profile`` as JSON into the user's printer folder (or ``folder``); returns the path."""
    target = Path(folder) if folder else _user_dir()
    target.mkdir(parents=True, exist_ok=True)
    # Names such as "PRINTSCP@host:104" (a printer learnt without a profile) make file names too.
    stem = re.sub(r"[^A-Za-z0-9_.@-]+", "_", profile.name).strip(".") or "printer"
    path = target / f"{stem}.json"
    path.write_text(json.dumps(profile.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def permissive_profile(host: str, port: int, ae_title: str, calling_ae_title: str = "VIEWER") -> PrinterProfile:
    """A profile that knows nothing about the printer: everything is sent as asked."""
    return PrinterProfile(name=f"{ae_title}@{host}:{port}", ae_title=ae_title, host=host, port=port,
                          calling_ae_title=calling_ae_title, color=True, supports_requested_image_size=True,
                          supports_decimate_crop=True, annotation_display_formats=None, max_pdu=65536,
                          printer_attributes=["PrinterStatus", "PrinterStatusInfo"])


#: Profile fields a refusal can teach (viewer.film.refusals.Adaptation.learned).
LEARNABLE = ("supports_12_bit", "supports_pixel_aspect_ratio", "supports_requested_image_size",
             "supports_decimate_crop", "presentation_lut", "annotation_display_formats", "display_formats",
             "film_sizes", "magnification_types", "smoothing_types", "border_densities", "empty_image_densities",
             "configuration_information", "resolution_ids", "medium_types", "film_destinations")


def learn(profile: PrinterProfile, learned: dict[str, Any]) -> PrinterProfile:
    """``profile`` with what the printer's refusals taught.

    Flags and the Presentation LUT level are replaced; a list the profile already has is
    kept (the printer's conformance statement knows better than one refusal), an unknown
    one (None) takes the learnt value.
    """
    changes: dict[str, Any] = {}
    for key, value in learned.items():
        if key not in LEARNABLE:
            continue
        current = getattr(profile, key)
        if key == "supports_requested_image_size" and value is False:
            changes["supports_decimate_crop"] = False
        if isinstance(value, list) and current is not None and key != "annotation_display_formats":
            continue
        changes[key] = value
    from dataclasses import replace

    return replace(profile, **changes) if changes else profile


def learned_profile(host: str, port: int, ae_title: str) -> PrinterProfile | None:
    """The profile learnt for a printer used without one (named ``AE@host:port``), if any."""
    name = f"{ae_title}@{host}:{port}"
    return load_profiles().get(name)
