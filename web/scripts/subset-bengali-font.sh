#!/usr/bin/env bash
# Remakes public/fonts/noto-sans-bengali-{regular,bold}.woff2: Noto Sans Bengali (OFL,
# from Debian's fonts-noto-core) cut down to the Bengali block, the dandas, ZWNJ/ZWJ and
# the dotted circle, with every OpenType layout feature (conjuncts, vowel signs) kept.
# Needs fonttools with brotli: `pip install 'fonttools[woff]'`.
set -euo pipefail
cd "$(dirname "$0")/../public/fonts"
src=${NOTO_DIR:-/usr/share/fonts/truetype/noto}
for weight in Regular Bold; do
  pyftsubset "$src/NotoSansBengali-$weight.ttf" \
    --unicodes="U+0964-0965,U+0980-09FE,U+200C-200D,U+25CC" \
    --layout-features='*' --flavor=woff2 --no-hinting --desubroutinize --name-IDs='*' \
    --output-file="noto-sans-bengali-${weight,,}.woff2"
done
