#!/usr/bin/env bash
# Real photos for the corpus pool (crates/corpus), fetched from Debian without root:
#
#   scripts/photos.sh DIR
#
# Downloads the mate-backgrounds package (apt-get download: no root, nothing installed),
# unpacks it with dpkg -x into DIR/mate-backgrounds, and writes DIR/PROVENANCE with the
# package's version and the licence of every photo, taken from the package's own
# debian/copyright. The photos are DIR/mate-backgrounds/usr/share/backgrounds/mate/nature:
# twelve nature photographs, 1280 to 2560 pixels, GPL-2+.
#
# Optionally, with PHOTOS_SKIMAGE=1, also copies scikit-image's bundled sample photos
# (public domain or CC0 per its data/README) from a virtual environment outside the
# project, created if missing at ${SKIMAGE_VENV:-$HOME/skimage-venv}, into DIR/skimage.
#
# Nothing fetched here belongs in the repository: keep DIR under target/.
set -euo pipefail

dir=${1:?usage: scripts/photos.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && apt-get download mate-backgrounds >/dev/null)
deb=$(ls "$work"/mate-backgrounds_*.deb)
rm -rf "$dir/mate-backgrounds"
dpkg -x "$deb" "$dir/mate-backgrounds"
nature="$dir/mate-backgrounds/usr/share/backgrounds/mate/nature"
copyright="$dir/mate-backgrounds/usr/share/doc/mate-backgrounds/copyright"
version=$(dpkg-deb -f "$deb" Version)

{
    echo "Photos in $nature"
    echo "From the Debian package mate-backgrounds $version ($(basename "$deb"), sha256 $(sha256sum "$deb" | cut -d' ' -f1))."
    echo "Licences, from the package's debian/copyright (its own copy is $copyright):"
    echo
    for f in "$nature"/*; do
        name="nature/$(basename "$f")"
        # The stanza whose Files: list names this photo.
        awk -v name="$name" '
            /^Files:/ { files = $0; sub(/^Files: */, "", files); inlist = 1; hit = 0 }
            inlist && /^ / { files = files " " $1 }
            /^Copyright:/ { inlist = 0; for (i = 1; i <= split(files, f, " "); i++) if (f[i] == name) hit = 1 }
            hit && /^Copyright:/ { sub(/^Copyright: */, ""); print "  " name ": (c) " $0; incopy = 1; next }
            hit && incopy && /^ / { sub(/^ */, ""); print "      (c) " $0; next }
            { incopy = 0 }
            hit && /^License:/ { sub(/^License: */, ""); print "    licence: " $0; hit = 0 }
        ' "$copyright"
    done
} >"$dir/PROVENANCE"

if [ "${PHOTOS_SKIMAGE:-0}" = 1 ]; then
    venv=${SKIMAGE_VENV:-$HOME/skimage-venv}
    [ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q scikit-image; }
    data=$("$venv/bin/python" -c 'import skimage, os; print(os.path.join(os.path.dirname(skimage.__file__), "data"))')
    mkdir -p "$dir/skimage"
    # The photographs among the samples (the rest are drawings, scans and microscopy).
    for f in astronaut.png chelsea.png coffee.png rocket.jpg motorcycle_left.png hubble_deep_field.jpg; do
        [ -f "$data/$f" ] && cp "$data/$f" "$dir/skimage/"
    done
    {
        echo
        echo "Photos in $dir/skimage: scikit-image $("$venv/bin/python" -c 'import skimage; print(skimage.__version__)') sample data;"
        echo "licences as its data/README.txt states them (public domain or CC0 for these files):"
        [ -f "$data/README.txt" ] && sed 's/^/  /' "$data/README.txt"
    } >>"$dir/PROVENANCE"
fi

cat "$dir/PROVENANCE"
