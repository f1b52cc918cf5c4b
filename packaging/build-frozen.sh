#!/bin/bash
# Build the one-folder Linux bundle with PyInstaller and report its size.
#
#   packaging/build-frozen.sh [--smoke]
#
# Output: dist/dicom-viewer/dicom-viewer (run it like the console script). With --smoke the
# bundle's smoke test runs afterwards (tests/integration/test_frozen.py, which reuses this
# bundle through DICOM_VIEWER_BUNDLE). Windows and macOS: run
#   pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/dicom-viewer.spec
# from the repository root in a venv with `pip install -e .[freeze]` (Windows gets
# dicom-viewer.exe with resources/icons/dicom-viewer.ico; macOS also gets "DICOM Viewer.app").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -c 'import PyInstaller' 2>/dev/null || "$PY" -m pip install -q 'pyinstaller>=6.0'
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/dicom-viewer.spec
du -sh dist/dicom-viewer | awk '{print "bundle size: " $1 " (dist/dicom-viewer)"}'
if [ "${1:-}" = "--smoke" ]; then
    DICOM_VIEWER_BUNDLE=dist/dicom-viewer "$PY" -m pytest -q -m slow tests/integration/test_frozen.py
fi
