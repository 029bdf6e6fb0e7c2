"""xladdin: validate, consolidate and rank land-acquisition progress ledgers in an Excel master workbook."""

__version__ = "0.1.0"
