"""TLS for our DICOM servers (PS3.15 B.9, BCP 195 TLS Secure Transport Connection Profile).

Client contexts are made by :func:`viewer.net.association.ssl_context` from a node's
:class:`~viewer.config.TlsOptions`; this module makes the server side, used by the storage
SCP and the print SCP. Following BCP 195 (RFC 9325) as PS3.15 B.9 asks: TLS 1.2 or newer,
only forward-secret AEAD cipher suites for TLS 1.2 (TLS 1.3 suites are all acceptable), no
compression or renegotiation. A DICOM peer is authenticated by its certificate (PS3.15 B.1),
so by default a client certificate signed by the configured CA is required.
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass

from viewer.errors import NetError

log = logging.getLogger(__name__)

#: TLS 1.2 suites of BCP 195 (RFC 9325 4.2): ECDHE/DHE key exchange, AES-GCM or ChaCha20.
BCP195_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL:!MD5:!DSS"


@dataclass(frozen=True)
class ServerTls:
    """TLS settings of one of our SCPs.

    Parameters
    ----------
    cert_file, key_file
        Our certificate (PEM, may include the chain) and its private key.
    ca_file
        CA certificates that sign acceptable client certificates.
    require_client_cert
        Refuse peers without a certificate from ``ca_file`` (PS3.15 B.1 peer authentication).
    """

    cert_file: str
    key_file: str = ""
    ca_file: str = ""
    require_client_cert: bool = True


def _harden(ctx: ssl.SSLContext) -> ssl.SSLContext:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(BCP195_CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION | getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    return ctx


def server_context(tls: ServerTls) -> ssl.SSLContext:
    """An ``ssl.SSLContext`` for a DICOM server; :class:`NetError` naming the file on a bad setup."""
    for label, path in (("certificate", tls.cert_file), ("key", tls.key_file), ("CA", tls.ca_file)):
        if path and not os.path.isfile(path):
            raise NetError(f"TLS setup: {label} file {path} not found")
    if tls.require_client_cert and not tls.ca_file:
        raise NetError("TLS setup: a CA file is needed to check client certificates")
    try:
        ctx = _harden(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
        ctx.load_cert_chain(tls.cert_file, tls.key_file or None)
        if tls.ca_file:
            ctx.load_verify_locations(cafile=tls.ca_file)
        ctx.verify_mode = ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL if tls.ca_file \
            else ssl.CERT_NONE
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise NetError(f"TLS setup: {exc}") from None
    return ctx


def harden_client(ctx: ssl.SSLContext) -> ssl.SSLContext:
    """Apply the BCP 195 limits to a client context (TLS 1.2+, AEAD suites)."""
    return _harden(ctx)
