"""Choice of the decoding plugin per transfer syntax (PS3.5 Section 8 and Annex A.4).

pydicom 3 exposes one :class:`~pydicom.pixels.decoders.base.Decoder` per transfer syntax,
each with several optional plugins. We pick the fastest *available* plugin per syntax, as
measured on this class of machine:

* JPEG baseline (1.2.840.10008.1.2.4.50): Pillow decodes 2-3x faster than pylibjpeg-libjpeg.
* RLE Lossless (1.2.840.10008.1.2.5): pylibjpeg-rle is ~5x faster than pydicom's own decoder.
* everything else: the one plugin that can do it (libjpeg for 12-bit/lossless/JPEG-LS,
  openjpeg for JPEG 2000), Pillow as a fallback where it can.

What each plugin returns for colour: pydicom's decode runner records the photometric
interpretation of the *decoded* array (Pillow and libjpeg may already convert YCbCr to RGB,
openjpeg applies the JPEG 2000 multiple component transform for YBR_ICT/YBR_RCT), and with
``raw=False`` converts any remaining YBR_FULL/YBR_FULL_422 to RGB exactly once. We keep
that bookkeeping: :mod:`viewer.dicom.frames` reports the interpretation of what it returns.

A syntax with no available plugin raises :class:`~viewer.errors.DecodeError` naming the
packages to install (house rule 3) instead of failing at import time.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from viewer.errors import DecodeError

log = logging.getLogger(__name__)

#: Preferred plugin order per transfer syntax UID; unlisted syntaxes use pydicom's order.
_PREFERENCE: dict[str, tuple[str, ...]] = {
    "1.2.840.10008.1.2.4.50": ("pillow", "pylibjpeg", "gdcm"),  # JPEG baseline
    "1.2.840.10008.1.2.4.51": ("pylibjpeg", "gdcm", "pillow"),  # JPEG extended (12-bit)
    "1.2.840.10008.1.2.4.57": ("pylibjpeg", "gdcm"),  # JPEG lossless
    "1.2.840.10008.1.2.4.70": ("pylibjpeg", "gdcm"),  # JPEG lossless SV1
    "1.2.840.10008.1.2.4.80": ("pylibjpeg", "pyjpegls", "gdcm"),  # JPEG-LS lossless
    "1.2.840.10008.1.2.4.81": ("pylibjpeg", "pyjpegls", "gdcm"),  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.90": ("pylibjpeg", "pillow", "gdcm"),  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91": ("pylibjpeg", "pillow", "gdcm"),  # JPEG 2000
    "1.2.840.10008.1.2.5": ("pylibjpeg", "pydicom", "gdcm"),  # RLE lossless
}

#: What to install for a syntax when no plugin is available.
_INSTALL_HINT: dict[str, str] = {
    "1.2.840.10008.1.2.4.50": "pip install pillow (or pylibjpeg pylibjpeg-libjpeg)",
    "1.2.840.10008.1.2.4.51": "pip install pylibjpeg pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.57": "pip install pylibjpeg pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.70": "pip install pylibjpeg pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.80": "pip install pylibjpeg pylibjpeg-libjpeg (or pyjpegls)",
    "1.2.840.10008.1.2.4.81": "pip install pylibjpeg pylibjpeg-libjpeg (or pyjpegls)",
    "1.2.840.10008.1.2.4.90": "pip install pylibjpeg pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.91": "pip install pylibjpeg pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.201": "pip install pylibjpeg pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.202": "pip install pylibjpeg pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.203": "pip install pylibjpeg pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.5": "pip install pylibjpeg pylibjpeg-rle",
}


def syntax_name(uid: str) -> str:
    """Human name of a transfer syntax UID, e.g. ``JPEG 2000 Image Compression (1.2...)``."""
    from pydicom.uid import UID

    name = UID(uid).name
    return f"{name} ({uid})" if name and name != uid else uid


@lru_cache(maxsize=None)
def choose_plugin(uid: str) -> str:
    """Return the name of the fastest available decoding plugin for transfer syntax ``uid``.

    Parameters
    ----------
    uid : str
        Transfer Syntax UID of an encapsulated (compressed) syntax.

    Returns
    -------
    str
        The plugin name to pass as ``decoding_plugin`` (``""`` for native syntaxes).

    Raises
    ------
    DecodeError
        If pydicom knows no decoder for ``uid`` or none of its plugins is installed.
    """
    from pydicom.pixels.decoders.base import get_decoder

    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        raise DecodeError(f"no decoder exists for transfer syntax {syntax_name(uid)}") from None
    if decoder.is_native:
        return ""
    available = decoder.available_plugins
    for name in _PREFERENCE.get(uid, ()) + tuple(available):
        if name in available:
            log.debug("decoding %s with plugin %s", uid, name)
            return name
    hint = _INSTALL_HINT.get(uid, "pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg")
    raise DecodeError(f"cannot decode {syntax_name(uid)}: no decoder installed; {hint}")
