#!/bin/sh
# Regenerates the committed hicolor PNGs from the SVG sources next to this
# script. Needs rsvg-convert (Debian: librsvg2-bin); the build does not, it
# installs the committed PNGs. Run after editing either SVG:
#   packaging/linux/icons/render-icons.sh
set -eu
cd "$(dirname "$0")"
id=io.github.switchboard.Switchboard
for size in 16 32 48 64 128 256; do
    source=$id.svg
    # 16x16 has its own hand-simplified drawing: the full one turns to mush.
    [ "$size" -eq 16 ] && source=$id-16.svg
    mkdir -p "hicolor/${size}x${size}/apps"
    rsvg-convert --width "$size" --height "$size" --output "hicolor/${size}x${size}/apps/$id.png" "$source"
done
