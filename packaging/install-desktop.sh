#!/bin/sh
# Register dicom-viewer with the desktop: menu entry, icons, MIME types (application/dicom,
# DICOMDIR) and the default application for them, so double-clicking a .dcm file or a
# DICOMDIR opens it.
#
#   packaging/install-desktop.sh            # for the current user (~/.local/share)
#   sudo packaging/install-desktop.sh --system   # for everyone (/usr/local/share)
#   packaging/install-desktop.sh --uninstall
#
# Works from a source checkout, an installed wheel (the files are also in
# site-packages/viewer/_data) or the frozen bundle (<bundle>/_internal/viewer/_data).
# Needs the freedesktop tools (xdg-utils, shared-mime-info, desktop-file-utils); without
# them it copies the files and updates the caches it can.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
res="${DICOM_VIEWER_RESOURCES:-}"
for cand in "$res" "$here/../resources" "$here/_internal/viewer/_data" "$here/../_internal/viewer/_data"; do
    if [ -n "$cand" ] && [ -f "$cand/dicom-viewer.desktop" ]; then res=$cand; break; fi
done
if [ -z "$res" ] || [ ! -f "$res/dicom-viewer.desktop" ]; then
    res=$(python3 -c 'from viewer.resources import resource_root; print(resource_root())')
fi

prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
mode=install
for arg in "$@"; do
    case "$arg" in
        --system) prefix=/usr/local/share ;;
        --uninstall) mode=uninstall ;;
        *) echo "usage: $0 [--system] [--uninstall]" >&2; exit 2 ;;
    esac
done

if [ "$mode" = uninstall ]; then
    rm -f "$prefix/applications/dicom-viewer.desktop" "$prefix/mime/packages/dicom-viewer.xml"
    find "$prefix/icons/hicolor" \( -name dicom-viewer.png -o -name application-dicom.png -o -name dicom-viewer.svg \) -delete 2>/dev/null || true
else
    mkdir -p "$prefix/applications" "$prefix/mime/packages" "$prefix/icons/hicolor/scalable/apps"
    install -m 644 "$res/dicom-viewer.desktop" "$prefix/applications/"
    install -m 644 "$res/mime/dicom-viewer.xml" "$prefix/mime/packages/"
    install -m 644 "$res/icons/dicom-viewer.svg" "$prefix/icons/hicolor/scalable/apps/"
    (cd "$res/icons" && find hicolor -name '*.png') | while read -r f; do
        mkdir -p "$prefix/icons/$(dirname "$f")"
        install -m 644 "$res/icons/$f" "$prefix/icons/$f"
    done
fi

command -v update-mime-database >/dev/null && update-mime-database "$prefix/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$prefix/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$prefix/icons/hicolor" || true
if [ "$mode" = install ] && command -v xdg-mime >/dev/null && [ "$prefix" != /usr/local/share ]; then
    xdg-mime default dicom-viewer.desktop application/dicom application/x-dicom-dicomdir || true
fi
echo "dicom-viewer: desktop integration ${mode}ed under $prefix"
