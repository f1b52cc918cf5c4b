#!/bin/bash
# Full clean-install check of the wheel: build it, install it WITH its dependencies from the
# package registry into a brand-new virtual environment, and run the installed program
# (version, dump and render of the bundled sample, an offscreen screenshot of the GUI).
#
#   packaging/check-wheel.sh [WORKDIR]      # default: a temporary folder, removed afterwards
#
# Takes minutes (PySide6 alone is ~100 MB); tests/integration/test_wheel.py is the fast
# variant that runs in every test run (see its docstring for how it stays honest offline).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
work=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$work"' EXIT
"$PY" -m build --no-isolation --outdir "$work/dist" . >/dev/null
wheel=$(ls "$work"/dist/dicom_viewer-*.whl)
base=$("$PY" -c 'import sys; print(sys.base_prefix)')/bin/python3
"$base" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q "$wheel"
cd "$work"   # not the source tree
export QT_QPA_PLATFORM=offscreen
bin="$work/venv/bin"
"$bin/dicom-viewer" --version
sample=$("$bin/python" -c 'from viewer.resources import resource_path, resource_origin; assert resource_origin().value == "package"; print(resource_path("sample"))')
"$bin/dicom-viewer" dump --search PatientName "$sample/ct/CT0001.dcm"
"$bin/dicom-viewer" render "$sample/ct/CT0001.dcm" -o "$work/ct.png"
"$bin/dicom-viewer" "$sample/ct" --screenshot "$work/shot.png" --size 800x600
"$bin/pip" check
du -sh "$work/venv" | awk '{print "installed venv size: " $1}'
echo "wheel OK: $(basename "$wheel")"
