"""ZIP archives built in memory, for the tests of media that arrive zipped."""

from __future__ import annotations

import io
import zipfile


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deflated ZIP archive holding ``members`` (name -> bytes), names written as given
    (``../`` and all, for the hostile cases)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
