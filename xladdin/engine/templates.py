"""Fill-in ledgers for every work group, starting from each group's last accepted report: the one
function behind `xladdin templates` and the 生成填报模板 button."""

from __future__ import annotations

from pathlib import Path

from xladdin.store.history import Store
from xladdin.workbook.ledger import LastReport, write_templates


def write_group_templates(book, base_dir: Path, out_dir: Path | None = None) -> list[Path]:
    """One self-checking ledger per group of the book's registry, filled with its last accepted figures."""
    registry = book.registry()
    settings = book.settings()
    store_path = base_dir / settings.store
    last: dict[str, LastReport] = {}
    if store_path.is_file():  # no history yet: blank templates, and no store file created for nothing
        store = Store(store_path)
        try:
            last = {group: LastReport(date, rows) for group, (date, rows) in store.last_reports().items()}
        finally:
            store.close()
    return write_templates(registry, out_dir or base_dir / "填报模板", last, settings.jump_ratio)
