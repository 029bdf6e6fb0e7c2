#!/usr/bin/env bash
# Render the demo master's 图表 sheet to docs/demo-charts.png, as LibreOffice draws it.
# Needs LibreOffice and poppler-utils (apt-get install -y libreoffice-calc-nogui poppler-utils).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
.venv/bin/xladdin demo "$work/demo" --as-of 2026-11-24 > /dev/null
soffice --headless --convert-to pdf --outdir "$work" "$work/demo/指挥部母表.xlsm" > /dev/null
pdf="$work/指挥部母表.pdf"
pages=$(pdfinfo "$pdf" | awk '/^Pages/ {print $2}')
for page in $(seq 1 "$pages"); do
    if pdftotext -f "$page" -l "$page" "$pdf" - | grep -q "图表（截至"; then
        pdftoppm -f "$page" -l "$page" -r 80 -png -singlefile "$pdf" docs/demo-charts
        echo "docs/demo-charts.png (page $page of $pages)"
        break
    fi
done
rm -rf "$work"
