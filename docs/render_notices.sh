#!/usr/bin/env bash
# Render the demo's weekly 通报 (Word, via LibreOffice Writer) to docs/notice-weekly-N.png, one PNG per page,
# the first 专报 page (docs/leader-report.png), and the 作战图时间表, 督办台账 and 节点计划 sheets of the master
# (docs/timeline.png, register.png, milestones.png), as a county clerk would print them.
# Needs LibreOffice, poppler-utils and fonts-noto-cjk (see README's set-up).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
.venv/bin/xladdin demo "$work/demo" --as-of 2026-11-24 > /dev/null
.venv/bin/xladdin notice "$work/demo/指挥部母表.xlsm" --weekly --as-of 2026-11-24 --docx "$work/通报.docx" > /dev/null
soffice --headless --convert-to pdf --outdir "$work" "$work/通报.docx" > /dev/null
rm -f docs/notice-weekly-*.png
pdftoppm -r 60 -png "$work/通报.pdf" docs/notice-weekly
ls docs/notice-weekly-*.png
.venv/bin/xladdin notice "$work/demo/指挥部母表.xlsm" --by-leader --as-of 2026-11-24 --docx "$work/专报.docx" > /dev/null
soffice --headless --convert-to pdf --outdir "$work" "$work/专报.docx" > /dev/null
pdftoppm -f 1 -l 1 -r 60 -png -singlefile "$work/专报.pdf" docs/leader-report
echo docs/leader-report.png
soffice --headless --convert-to pdf --outdir "$work" "$work/demo/指挥部母表.xlsm" > /dev/null
pdf="$work/指挥部母表.pdf"
pages=$(pdfinfo "$pdf" | awk '/^Pages/ {print $2}')
for sheet in "督办台账（截至:register" "作战图时间表（截至:timeline" "节点计划（截至:milestones"; do
    marker=${sheet%%:*}
    name=${sheet##*:}
    for page in $(seq 1 "$pages"); do
        if pdftotext -f "$page" -l "$page" "$pdf" - | grep "$marker" > /dev/null; then  # no -q: pipefail
            pdftoppm -f "$page" -l "$page" -r 70 -png -singlefile "$pdf" "docs/$name"
            echo "docs/$name.png (page $page of $pages)"
            break
        fi
    done
done
rm -rf "$work"
