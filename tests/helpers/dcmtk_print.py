"""DCMTK's reference print SCU against a print SCP on a port: ``dcmpsprt`` renders a job into
a Stored Print object with its Hardcopy Grayscale images, ``dcmprscu`` sends it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pydicom

from tests.helpers.peers import CONF, render_template, require_program


def print_images(corpus: Path) -> list[Path]:
    """Four corpus images (CT and MR, several sizes) for a print job."""
    return [corpus / "ct" / "CT_small.dcm", corpus / "mr" / "MR_small.dcm", corpus / "ct" / "693_UNCR.dcm",
            corpus / "mr" / "emri_small.dcm"]


def dcmtk_print(port: int, work: Path, cols: int, rows: int, images: list[Path], *options: str,
                bits12: bool = True, plut: bool = True, extra: str = "") -> tuple[Path, list[tuple[str, str]]]:
    """Render with dcmpsprt, send with dcmprscu; return (SCU folder, [(message, status)])."""
    require_program("dcmpsprt", "dcmtk")
    require_program("dcmprscu", "dcmtk")
    for sub in ("spool", "database", "lut"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    cfg = work / "dcmpstat.cfg"
    render_template(CONF / "dcmpstat-scu-viewerprint.cfg.in", cfg,
                    {"SCU_DIR": work, "PRINT_SCP_PORT": port, "PRINT_SCP_AET": "VIEWERPRINT",
                     "IMPLICIT_ONLY": "false", "SUPPORTS_12BIT": str(bits12).lower(),
                     "SUPPORTS_PLUT": str(plut).lower(), "EXTRA": extra})
    subprocess.run(["dcmpsprt", "-c", str(cfg), "-p", "TARGET", "--layout", str(cols), str(rows),
                    "--filmsize", "14INX17IN", *options, *map(str, images)],
                   check=True, capture_output=True, timeout=60)
    sp = sorted((work / "database").glob("SP_*.dcm"))[0]
    out = subprocess.run(["dcmprscu", "-v", "+d", "-c", str(cfg), "-p", "TARGET", "--medium-type", "BLUE FILM",
                          "--label", "DCMTK REF", str(sp)], capture_output=True, text=True, timeout=120)
    (work / "dcmprscu.log").write_text(out.stdout + out.stderr)
    msgs, current = [], ""
    for line in (out.stdout + out.stderr).splitlines():
        if m := re.search(r"Message Type\s+: (.*)", line):
            current = m.group(1).strip()
        if m := re.search(r"DIMSE Status\s+: (0x[0-9A-Fa-f]{4})", line):
            msgs.append((current, m.group(1).upper().replace("0X", "0x")))
    return sp, msgs


def hardcopies_by_position(sp_path: Path) -> dict[int, pydicom.Dataset]:
    """DCMTK's Hardcopy Grayscale images by Image Box Position, from its Stored Print object."""
    sp = pydicom.dcmread(sp_path)
    by_uid = {}
    for f in sp_path.parent.glob("HG_*.dcm"):
        ds = pydicom.dcmread(f)
        by_uid[ds.SOPInstanceUID] = ds
    return {int(it.ImageBoxPosition): by_uid[it.ReferencedImageSequence[0].ReferencedSOPInstanceUID]
            for it in sp.ImageBoxContentSequence}
