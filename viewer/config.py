"""Network configuration: the local AE, remote DIMSE nodes and DICOMweb nodes.

Plain dataclasses with JSON load/save in a folder the caller passes in: the GUI passes
its settings folder (``QStandardPaths.AppConfigLocation``), the tests a temporary one, so
no user configuration is ever read implicitly (house rule 11, docs/architecture.md).

AE titles follow the AE value representation of PS3.5 6.2: at most 16 characters of the
default character repertoire, no backslash, no control characters, not all spaces.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from viewer.errors import UsageError, ViewerError

log = logging.getLogger(__name__)

#: File name of the network configuration inside the config folder.
CONFIG_FILE = "network.json"
#: Default title of our own AE (also the C-MOVE destination the test peers know).
DEFAULT_AE_TITLE = "VIEWER"
#: Default port of our storage SCP (the peers' reference setup uses 11115).
DEFAULT_STORE_PORT = 11115
#: Environment variable that turns the pynetdicom fast path (:mod:`viewer.net.fastpath`)
#: off for the process: ``0``, ``false``, ``no`` or ``off``. It wins over the setting.
FASTPATH_ENV = "VIEWER_FASTPATH"
_OFF = frozenset({"0", "false", "no", "off"})


class ConfigError(ViewerError):
    """The configuration file or a configured value is invalid."""


def validate_ae_title(title: str) -> str:
    """Return ``title`` stripped, or raise :class:`UsageError` if it is not a valid AE title.

    PS3.5 6.2 (VR AE): 16 bytes maximum, leading/trailing spaces not significant,
    no backslash and no control characters; a value of only spaces is not allowed.
    """
    value = title.strip()
    if not value:
        raise UsageError("AE title is empty")
    if len(value) > 16:
        raise UsageError(f"AE title {value!r} is longer than 16 characters (PS3.5 6.2)")
    if "\\" in value or any(ord(c) < 0x20 or ord(c) > 0x7E for c in value):
        raise UsageError(f"AE title {value!r} contains a backslash or a non-printable character (PS3.5 6.2)")
    return value


def validate_port(port: int) -> int:
    """Return ``port`` if it is a TCP port number (1..65535), else raise :class:`UsageError`."""
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise UsageError(f"port {port!r} is not in 1..65535")
    return port


@dataclass
class Timeouts:
    """Bounds in seconds of every wait (pynetdicom's four timeouts)."""

    connect: float = 10.0
    acse: float = 30.0
    dimse: float = 30.0
    network: float = 60.0

    @classmethod
    def uniform(cls, seconds: float) -> "Timeouts":
        """All four timeouts set to ``seconds`` (the CLI's ``--timeout``)."""
        return cls(seconds, seconds, seconds, seconds)


@dataclass
class TlsOptions:
    """TLS for a DIMSE association (PS3.15 B.1, the TLS secure transport profile).

    ``ca_file`` verifies the peer; ``cert_file``/``key_file`` identify us when the peer
    asks for a client certificate.
    """

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    check_hostname: bool = False


@dataclass
class LocalAE:
    """Our own application entity: its title and the port of its storage SCP."""

    ae_title: str = DEFAULT_AE_TITLE
    store_port: int = DEFAULT_STORE_PORT
    #: When False the storage SCP accepts only calling AEs of configured nodes (or those a
    #: retrieve names explicitly); when True it accepts any calling AE.
    accept_any_calling: bool = False
    #: Folder of the local store; empty means the default under the user's data folder.
    store_dir: str = ""
    #: DICOM over TLS for our storage SCP (PS3.15 B.9): our certificate (PEM) turns it on, with
    #: its key and the CA that signs the peers' client certificates (required).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_ca_file: str = ""
    #: Receive retrieved instances through the fast path of :mod:`viewer.net.fastpath`
    #: (C-GET, C-MOVE, our storage SCP); False runs them as pynetdicom ships it (slower).
    #: The environment variable :data:`FASTPATH_ENV` turns it off too.
    fast_path: bool = True
    #: Keep the storage SCP listening while the GUI runs, so peers can send studies to us at
    #: any time (they go into the study library); False starts it only for a C-MOVE.
    receive: bool = False

    def validate(self) -> "LocalAE":
        self.ae_title = validate_ae_title(self.ae_title)
        validate_port(self.store_port)
        return self


@dataclass
class DimseNode:
    """A remote DIMSE peer (PACS, worklist or print SCP)."""

    name: str
    ae_title: str
    host: str
    port: int
    timeouts: Timeouts = field(default_factory=Timeouts)
    tls: TlsOptions | None = None
    #: Preferred retrieve method: ``"move"`` (to our storage SCP) or ``"get"``.
    retrieve: str = "move"

    def validate(self) -> "DimseNode":
        if not self.name.strip():
            raise UsageError("node name is empty")
        self.ae_title = validate_ae_title(self.ae_title)
        if not self.host.strip():
            raise UsageError(f"node {self.name!r}: host is empty")
        validate_port(self.port)
        if self.retrieve not in ("move", "get"):
            raise UsageError(f"node {self.name!r}: retrieve must be 'move' or 'get', not {self.retrieve!r}")
        return self


@dataclass
class DicomWebNode:
    """A DICOMweb server (QIDO-RS/WADO-RS/STOW-RS, PS3.18) used by :mod:`viewer.net.dicomweb`."""

    name: str
    base_url: str
    #: ``"none"``, ``"basic"`` (username/password) or ``"bearer"`` (token).
    auth: str = "none"
    username: str = ""
    password: str = ""
    token: str = ""
    verify_tls: bool = True
    ca_file: str = ""
    timeout: float = 30.0

    def validate(self) -> "DicomWebNode":
        if not self.name.strip():
            raise UsageError("node name is empty")
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"node {self.name!r}: base URL must start with http:// or https://")
        if self.auth not in ("none", "basic", "bearer"):
            raise UsageError(f"node {self.name!r}: auth must be none, basic or bearer")
        return self


@dataclass
class NetworkConfig:
    """Everything the PACS panel and the network commands need."""

    local: LocalAE = field(default_factory=LocalAE)
    nodes: list[DimseNode] = field(default_factory=list)
    web_nodes: list[DicomWebNode] = field(default_factory=list)

    def node(self, name: str) -> DimseNode:
        """The DIMSE node called ``name``; :class:`UsageError` if there is none."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise UsageError(f"no configured node named {name!r}")

    def known_calling_aets(self) -> set[str]:
        """AE titles our storage SCP accepts by default: those of the configured nodes."""
        return {n.ae_title for n in self.nodes}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NetworkConfig":
        """Build from a dict as written by :meth:`to_dict`; unknown keys are ignored."""
        try:
            local = LocalAE(**_known(LocalAE, data.get("local", {}))).validate()
            nodes = []
            for raw in data.get("nodes", []):
                raw = dict(raw)
                timeouts = Timeouts(**_known(Timeouts, raw.pop("timeouts", None) or {}))
                tls_raw = raw.pop("tls", None)
                tls = TlsOptions(**_known(TlsOptions, tls_raw)) if tls_raw else None
                nodes.append(DimseNode(**_known(DimseNode, raw), timeouts=timeouts, tls=tls).validate())
            web = [DicomWebNode(**_known(DicomWebNode, raw)).validate() for raw in data.get("web_nodes", [])]
        except (TypeError, AttributeError) as exc:
            raise ConfigError(f"invalid network configuration: {exc}") from exc
        return cls(local=local, nodes=nodes, web_nodes=web)


def _known(kind: type, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TypeError(f"expected an object for {kind.__name__}, got {type(raw).__name__}")
    names = {f.name for f in fields(kind)} - {"timeouts", "tls"}
    return {k: v for k, v in raw.items() if k in names}


def load_config(folder: str | os.PathLike[str]) -> NetworkConfig:
    """Read ``folder/network.json``; a missing file gives the defaults.

    Raises
    ------
    ConfigError
        The file exists but is not valid JSON or holds invalid values.
    """
    path = Path(folder) / CONFIG_FILE
    if not path.exists():
        return NetworkConfig()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    try:
        return NetworkConfig.from_dict(data)
    except UsageError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def save_config(config: NetworkConfig, folder: str | os.PathLike[str]) -> Path:
    """Write ``folder/network.json`` atomically (temp file, then rename); returns the path.

    The file may hold DICOMweb passwords or tokens, so it is created readable by the
    owner only.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_FILE
    fd, tmp = tempfile.mkstemp(prefix=".network-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(config.to_dict(), fh, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.debug("saved network configuration to %s", path)
    return path


def fast_path_allowed(setting: bool = True) -> bool:
    """Whether the fast path is switched on: the ``fast_path`` ``setting`` and
    :data:`FASTPATH_ENV` not set to an off value (``0``, ``false``, ``no``, ``off``)."""
    return setting and os.environ.get(FASTPATH_ENV, "").strip().lower() not in _OFF


def default_store_dir() -> Path:
    """The local store under the user's data folder (:func:`viewer.paths.store_dir`)."""
    from viewer import paths

    return paths.store_dir()
