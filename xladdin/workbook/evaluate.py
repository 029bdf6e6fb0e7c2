"""The values of the formulas a workbook built with openpyxl holds, computed as Excel computes them, so that
they are stored beside the formulas (cached values): a file previewed in mail, in a chat app or in Protected
View shows them, where openpyxl alone leaves the cells empty.

Only what the add-in writes is understood: the functions of `FUNCTIONS`, references and ranges (on other
sheets too), the operators, and arrays inside SUMPRODUCT. A formula using anything else is left without a
cached value (Excel computes it on opening, as before). TODAY() is the date given: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

_EPOCH = dt.datetime(1899, 12, 30)


class Unsupported(Exception):
    """A formula the evaluator does not understand."""


class NeedsToday(Unsupported):
    """TODAY() asked for, and no date given: the formula's value depends on the day it is opened."""


@dataclass(frozen=True)
class XLError:
    code: str  # "#VALUE!", "#DIV/0!", "#N/A", "#NUM!"


VALUE_ERROR, DIV0 = XLError("#VALUE!"), XLError("#DIV/0!")


class Array(list):
    """A 2-D block of values (a range's cells, or an operation over one)."""


def serial(value: dt.date | dt.datetime) -> float:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    return (moment - _EPOCH).total_seconds() / 86400


# -- tokens and parsing ---------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<string>"(?:[^"]|"")*")
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)
  | (?P<number>\d+(?:\.\d*)?(?:[Ee][+-]?\d+)?|\.\d+(?:[Ee][+-]?\d+)?)
  | (?P<function>[A-Za-z_][\w.]*)\(
  | (?P<bool>TRUE|FALSE)\b
  | (?P<op><>|<=|>=|[-+*/^&=<>(),])
  | (?P<space>\s+)
""", re.VERBOSE | re.UNICODE)


_DIGITS = re.compile(r"\d+")


def tokens(formula: str) -> list[tuple[str, object]]:
    """The formula's tokens; a string, number or reference holding digits is kept as a template of its digit
    runs, numbered in the formula ("B{0}" with its first run's index): formulas that differ only in their
    digits (the same rule on every row) then share one parse."""
    runs = [m.start() for m in _DIGITS.finditer(formula)]
    found, at, run = [], 0, 0
    while at < len(formula):
        match = _TOKEN.match(formula, at)
        if match is None:
            raise Unsupported(formula[at:at + 20])
        kind = match.lastgroup
        while run < len(runs) and runs[run] < match.start():
            run += 1
        if kind != "space":
            text = match.group(kind)
            if kind in ("string", "number", "ref") and any(ch.isdigit() for ch in text):
                count = [0]

                def slot(_: re.Match) -> str:
                    count[0] += 1
                    return "{%d}" % (count[0] - 1)

                template = _DIGITS.sub(slot, text.replace("{", "{{").replace("}", "}}"))
                found.append((kind, (template, run, count[0])))
            else:
                found.append((kind, text))
        at = match.end()
    return found


class _Parser:
    """Recursive descent over Excel's precedence: comparison < & < + - < * / < ^ < unary minus."""

    def __init__(self, items: list[tuple[str, str]]):
        self.items, self.at = [*items, ("end", "")], 0

    def peek(self) -> tuple[str, str]:
        return self.items[self.at]

    def take(self, value: str | None = None) -> tuple[str, str]:
        item = self.peek()
        if value is not None and item[1] != value:
            raise Unsupported(f"expected {value}")
        self.at += 1
        return item

    def parse(self):
        tree = self.comparison()
        if self.peek()[0] != "end":
            raise Unsupported("trailing tokens")
        return tree

    def comparison(self):
        left = self.concat()
        while self.peek()[1] in ("=", "<>", "<", ">", "<=", ">="):
            left = ("op", self.take()[1], left, self.concat())
        return left

    def concat(self):
        left = self.additive()
        while self.peek()[1] == "&":
            self.take()
            left = ("op", "&", left, self.additive())
        return left

    def additive(self):
        left = self.term()
        while self.peek()[1] in ("+", "-"):
            left = ("op", self.take()[1], left, self.term())
        return left

    def term(self):
        left = self.power()
        while self.peek()[1] in ("*", "/"):
            left = ("op", self.take()[1], left, self.power())
        return left

    def power(self):
        left = self.unary()
        while self.peek()[1] == "^":
            self.take()
            left = ("op", "^", left, self.unary())
        return left

    def unary(self):
        if self.peek()[1] == "-":
            self.take()
            return ("neg", self.unary())
        if self.peek()[1] == "+":
            self.take()
            return self.unary()
        return self.primary()

    def primary(self):
        kind, text = self.take()
        if isinstance(text, tuple):  # a template of the formula's digits: filled in when evaluated
            return ("digits", kind, *text)
        if kind in ("number", "string", "ref"):
            return _leaf(kind, text)
        if kind == "bool":
            return ("value", text == "TRUE")
        if kind == "function":
            arguments = []
            if self.peek()[1] != ")":
                arguments.append(self.comparison())
                while self.peek()[1] == ",":
                    self.take()
                    arguments.append(self.comparison())
            self.take(")")
            name = text.upper().removeprefix("_XLFN.")
            if name not in FUNCTIONS:
                raise Unsupported(name)
            return ("call", name, arguments)
        if text == "(":
            inner = self.comparison()
            self.take(")")
            return inner
        raise Unsupported(text)


def _leaf(kind: str, text: str):
    if kind == "number":
        return ("value", float(text))
    if kind == "string":
        return ("value", text[1:-1].replace('""', '"'))
    return ("ref", text)


# -- values ---------------------------------------------------------------------------------------

def _number(value) -> float | XLError:
    """A value in arithmetic: blank 0, TRUE 1, text that is a number its number, other text #VALUE!."""
    if isinstance(value, XLError):
        return value
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    parsed = _text_number(value)
    return VALUE_ERROR if parsed is None else parsed


_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([Ee][+-]?\d+)?%?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def _text_number(text: str) -> float | None:
    """What VALUE makes of text: a plain number, with thousands separators or a percent sign; None if not."""
    text = text.strip(" ")
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if not _PLAIN.fullmatch(text):
        return None
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def _text(value) -> str | XLError:
    """A value joined into text: a number as Excel's General format shows it."""
    if isinstance(value, XLError):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return f"{number:.15g}"
    return str(value)


def _truth(value) -> bool | XLError:
    if isinstance(value, XLError):
        return value
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    upper = str(value).upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    return VALUE_ERROR


def _order(value) -> tuple:
    """Excel's order for comparisons: numbers, then text (case-insensitive), then booleans."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, float(value))
    return (1, str(value).upper())


def _compare(op: str, left, right):
    if isinstance(left, XLError):
        return left
    if isinstance(right, XLError):
        return right
    if left is None:
        left = "" if isinstance(right, str) else False if isinstance(right, bool) else 0.0
    if right is None:
        right = "" if isinstance(left, str) else False if isinstance(left, bool) else 0.0
    a, b = _order(left), _order(right)
    return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def _lift(function, *values):
    """A scalar operation over arrays, element by element (a single value is repeated)."""
    arrays = [v for v in values if isinstance(v, Array)]
    if not arrays:
        return function(*values)
    if len(values) == 1:
        return Array([[function(x) for x in row] for row in values[0]])
    if len(values) == 2 and len(arrays) == 1:  # a range against one value: the common case, kept fast
        left, right = values
        if isinstance(left, Array):
            return Array([[function(x, right) for x in row] for row in left])
        return Array([[function(left, x) for x in row] for row in right])
    rows, cols = len(arrays[0]), len(arrays[0][0]) if arrays[0] else 0
    for array in arrays:
        if (len(array), len(array[0]) if array else 0) != (rows, cols):
            return Array([[XLError("#N/A")] * cols for _ in range(rows)])
    return Array([[function(*(v[r][c] if isinstance(v, Array) else v for v in values)) for c in range(cols)]
                  for r in range(rows)])


def _arithmetic(op: str, left, right):
    a, b = _number(left), _number(right)
    if isinstance(a, XLError):
        return a
    if isinstance(b, XLError):
        return b
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return DIV0 if b == 0 else a / b
    try:
        return a ** b
    except (OverflowError, ZeroDivisionError):
        return XLError("#NUM!")


def _join(left, right):
    a, b = _text(left), _text(right)
    if isinstance(a, XLError):
        return a
    return b if isinstance(b, XLError) else a + b


# -- criteria (COUNTIF, COUNTIFS, SUMIF) ----------------------------------------------------------

def _criterion(criterion):
    """A test of one cell from a COUNTIF criterion: a value (equal to it), or text with an operator
    (">=46000", "<>", "") and wildcards (* ?) for text."""
    if isinstance(criterion, (int, float)) and not isinstance(criterion, bool):
        return lambda cell: _number_or_none(cell) == float(criterion)
    if isinstance(criterion, bool):
        return lambda cell: cell is criterion
    text = "" if criterion is None else str(criterion)
    op = next((o for o in ("<>", "<=", ">=", "<", ">", "=") if text.startswith(o)), "")
    operand = text[len(op):]
    number = _text_number(operand) if operand else None
    if op in ("", "=") and operand == "":
        return lambda cell: cell is None or cell == ""
    if op == "<>" and operand == "":
        return lambda cell: not (cell is None or cell == "")
    if number is not None:
        def numeric(cell):
            value = _number_or_none(cell)
            if value is None:
                return op == "<>"
            return _compare(op or "=", value, number)
        return numeric
    pattern = re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in operand),
                         re.IGNORECASE | re.DOTALL)
    if op in ("", "=", "<>"):
        def matches(cell) -> bool:
            return isinstance(cell, str) and pattern.fullmatch(cell) is not None

        return matches if op != "<>" else (lambda cell: not matches(cell))
    return lambda cell: isinstance(cell, str) and _compare(op, cell, operand)


def _number_or_none(cell) -> float | None:
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, (int, float)):
        return float(cell)
    return None  # text never matches a numeric criterion


def _cells(value) -> list:
    if isinstance(value, Array):
        return [cell for row in value for cell in row]
    return [value]


# -- functions ------------------------------------------------------------------------------------

def _asc(text: str) -> str:
    """ASC: full-width ASCII forms and the ideographic space to their half-width characters."""
    return "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else " " if ch == "\u3000" else ch
                   for ch in text)


def _trim(text: str) -> str:
    return " ".join(part for part in text.split(" ") if part)


def _text_function(function):
    def apply(value, *rest):
        def one(v, *others):
            text = _text(v)
            if isinstance(text, XLError):
                return text
            texts = [_text(o) for o in others]
            error = next((t for t in texts if isinstance(t, XLError)), None)
            return error if error is not None else function(text, *texts)
        return _lift(one, value, *rest)
    return apply


def _substitute(text: str, old: str, new: str) -> str:
    return text.replace(old, new) if old else text


def _value(value):
    if isinstance(value, XLError):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if value is None:
        return 0.0
    parsed = _text_number(_text(value))
    return VALUE_ERROR if parsed is None else parsed


def _sumproduct(*arrays):
    if len(arrays) == 1 and not isinstance(arrays[0], Array):
        arrays = (Array([[arrays[0]]]),)
    product = None
    for array in arrays:
        array = array if isinstance(array, Array) else Array([[array]])
        cells = [cell for row in array for cell in row]
        error = next((c for c in cells if isinstance(c, XLError)), None)
        if error is not None:
            return error
        numbers = [float(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else 0.0 for c in cells]
        if product is None:
            product = numbers
        elif len(numbers) != len(product):
            return VALUE_ERROR
        else:
            product = [a * b for a, b in zip(product, numbers)]
    return float(sum(product or []))


def _countifs(*pairs):
    ranges = [_cells(pairs[i]) for i in range(0, len(pairs), 2)]
    tests = [_criterion(pairs[i]) for i in range(1, len(pairs), 2)]
    if len({len(r) for r in ranges}) != 1:
        return VALUE_ERROR
    return float(sum(all(test(column[k]) for test, column in zip(tests, ranges)) for k in range(len(ranges[0]))))


def _sumif(cells, criterion, summed=None):
    test, keys = _criterion(criterion), _cells(cells)
    values = keys if summed is None else _cells(summed)
    return float(sum(v for k, v in zip(keys, values)
                     if test(k) and isinstance(v, (int, float)) and not isinstance(v, bool)))


def _numbers(values) -> list[float]:
    found = []
    for value in values:
        for cell in _cells(value):
            if isinstance(cell, (int, float)) and not isinstance(cell, bool):
                found.append(float(cell))
    return found


def _scalar(function):
    """A function of single values, lifted over arrays and stopped by an error argument."""
    def apply(*values):
        def one(*vs):
            error = next((v for v in vs if isinstance(v, XLError)), None)
            return error if error is not None else function(*vs)
        return _lift(one, *values)
    return apply


def _weekday(value, kind=1.0):
    number = _number(value)
    if isinstance(number, XLError):
        return number
    day = (_EPOCH + dt.timedelta(days=int(number))).weekday()  # Monday 0
    return float({1.0: (day + 1) % 7 + 1, 2.0: day + 1, 3.0: day}[float(kind)])


def _logical(combine):
    def apply(*values):
        found = []
        for value in values:
            for cell in _cells(value):
                if isinstance(cell, XLError):
                    return cell
                if isinstance(value, Array) and not isinstance(cell, (bool, int, float)):
                    continue  # text and blanks in a range are left out
                truth = _truth(cell)
                if isinstance(truth, XLError):
                    return truth
                found.append(truth)
        return VALUE_ERROR if not found else combine(found)
    return apply


FUNCTIONS = {
    "AND": _logical(all), "OR": _logical(any),
    "NOT": _scalar(lambda v: (lambda t: t if isinstance(t, XLError) else not t)(_truth(v))),
    "ISTEXT": lambda v: _lift(lambda x: isinstance(x, str), v),
    "ISNUMBER": lambda v: _lift(lambda x: isinstance(x, (int, float)) and not isinstance(x, bool), v),
    "ISERROR": lambda v: _lift(lambda x: isinstance(x, XLError), v),
    "LEN": _text_function(lambda t: float(len(t))),
    "TRIM": _text_function(_trim),
    "ASC": _text_function(_asc),
    "SUBSTITUTE": _text_function(_substitute),
    "EXACT": _text_function(lambda a, b: a == b),
    "REPT": lambda text, times: _lift(lambda t, n: (lambda s, k: s if isinstance(s, XLError) else k if isinstance(
        k, XLError) else s * int(k))(_text(t), _number(n)), text, times),
    "VALUE": _scalar(_value),
    "N": _scalar(lambda v: float(v) if isinstance(v, (int, float)) else 0.0),
    "INT": _scalar(lambda v: (lambda n: n if isinstance(n, XLError) else float(math.floor(n)))(_number(v))),
    "MAX": lambda *vs: max(_numbers(vs), default=0.0),
    "MIN": lambda *vs: min(_numbers(vs), default=0.0),
    "SUM": lambda *vs: float(sum(_numbers(vs))),
    "COUNTA": lambda *vs: float(sum(cell is not None for v in vs for cell in _cells(v))),
    "COUNTIF": _countifs, "COUNTIFS": _countifs, "SUMIF": _sumif,
    "SUMPRODUCT": _sumproduct,
    "WEEKDAY": _weekday,
    "IF": None, "TODAY": None,  # evaluated by the evaluator (lazily; the given date)
}


# -- evaluation -----------------------------------------------------------------------------------

_REF = re.compile(r"(?:(?P<sheet>'(?:[^']|'')+'|[^'!]+)!)?\$?(?P<c1>[A-Z]{1,3})\$?(?P<r1>\d+)"
                  r"(?::\$?(?P<c2>[A-Z]{1,3})\$?(?P<r2>\d+))?")


class Evaluator:
    """Values of an openpyxl workbook's formula cells; each formula parsed once, each cell computed once."""

    def __init__(self, workbook: openpyxl.Workbook, today: dt.date | None = None):
        self.workbook, self.today = workbook, today
        self.values: dict[tuple[str, int, int], object] = {}
        self.busy: set[tuple[str, int, int]] = set()
        self.trees: dict[str, object] = {}
        self.ranges: dict[tuple[str, str], Array] = {}  # a range's cells, once all are computed
        self.runs: list[list[str]] = []  # the digit runs of each formula being computed (innermost last)

    def cell(self, sheet: str, row: int, col: int):
        key = (sheet, row, col)
        if key in self.values:
            return self.values[key]
        raw = self.workbook[sheet].cell(row, col).value
        if isinstance(raw, str) and raw.startswith("="):
            if key in self.busy:
                raise Unsupported("circular reference")
            self.busy.add(key)
            try:
                value = self.formula(raw, sheet)
            finally:
                self.busy.discard(key)
            value = value[0][0] if isinstance(value, Array) else value
        elif isinstance(raw, (dt.date, dt.datetime)):
            value = serial(raw)
        elif isinstance(raw, bool) or raw is None or isinstance(raw, str):
            value = raw
        elif isinstance(raw, (int, float)):
            value = float(raw)
        else:
            raise Unsupported(type(raw).__name__)
        self.values[key] = value
        return value

    def formula(self, text: str, sheet: str):
        shape = _DIGITS.sub("#", text)
        tree = self.trees.get(shape)
        if tree is None:
            tree = self.trees[shape] = _Parser(tokens(text[1:])).parse()
        self.runs.append(_DIGITS.findall(text[1:]))
        try:
            return self.node(tree, sheet)
        finally:
            self.runs.pop()

    def node(self, node, sheet: str):
        kind = node[0]
        if kind == "value":
            return node[1]
        if kind == "ref":
            return self.reference(node[1], sheet)
        if kind == "digits":
            _, token, template, first, count = node
            leaf = _leaf(token, template.format(*self.runs[-1][first:first + count]))
            return leaf[1] if leaf[0] == "value" else self.reference(leaf[1], sheet)
        if kind == "neg":
            return _lift(lambda v: (lambda n: n if isinstance(n, XLError) else -n)(_number(v)), self.node(node[1], sheet))
        if kind == "op":
            op, left, right = node[1], self.node(node[2], sheet), self.node(node[3], sheet)
            if op == "&":
                return _lift(_join, left, right)
            if op in ("+", "-", "*", "/", "^"):
                return _lift(lambda a, b: _arithmetic(op, a, b), left, right)
            return _lift(lambda a, b: _compare(op, a, b), left, right)
        name, arguments = node[1], node[2]
        if name == "IF":
            condition = _truth(self.node(arguments[0], sheet))
            if isinstance(condition, XLError):
                return condition
            if condition:
                return self.node(arguments[1], sheet) if len(arguments) > 1 else True
            return self.node(arguments[2], sheet) if len(arguments) > 2 else False
        if name == "TODAY":
            if self.today is None:
                raise NeedsToday()
            return serial(self.today)
        if name in ("AND", "OR"):
            return self.logical(name, arguments, sheet)
        return FUNCTIONS[name](*(self.node(argument, sheet) for argument in arguments))

    def logical(self, name: str, arguments: list, sheet: str):
        """AND and OR; an argument that needs TODAY() without a date is decided by the others when they
        decide alone (AND with a FALSE, OR with a TRUE): TODAY() never is an error, so it cannot change that."""
        values, undecided = [], False
        for argument in arguments:
            try:
                values.append(self.node(argument, sheet))
            except NeedsToday:
                undecided = True
        result = FUNCTIONS[name](*values) if values else VALUE_ERROR
        if undecided and not (isinstance(result, bool) and result == (name == "OR")):
            raise NeedsToday()
        return result

    def reference(self, text: str, sheet: str):
        known = self.ranges.get((sheet, text))
        if known is not None:
            return known
        match = _REF.fullmatch(text)
        if match is None:
            raise Unsupported(text)
        if match.group("sheet"):
            sheet = match.group("sheet").strip("'").replace("''", "'")
        c1, r1 = column_index_from_string(match.group("c1")), int(match.group("r1"))
        if match.group("c2") is None:
            return self.cell(sheet, r1, c1)
        c2, r2 = column_index_from_string(match.group("c2")), int(match.group("r2"))
        found = Array([[self.cell(sheet, r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)])
        self.ranges[(sheet, text)] = found
        return found


def cached_values(workbook: openpyxl.Workbook, today: dt.date | None = None) -> dict[str, dict[str, object]]:
    """sheet -> {cell address: value} for every formula the evaluator understands."""
    evaluator = Evaluator(workbook, today)
    found: dict[str, dict[str, object]] = {}
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    try:
                        value = evaluator.cell(ws.title, cell.row, cell.column)
                    except (Unsupported, RecursionError):
                        continue
                    found.setdefault(ws.title, {})[f"{get_column_letter(cell.column)}{cell.row}"] = value
    return found


# -- writing them into the file -------------------------------------------------------------------

# A formula cell as openpyxl writes it: the formula and an empty value.
_FORMULA_CELL = re.compile(r'<c r="([A-Z]{1,3}\d+)"([^>]*)><f>([^<]*)</f><v\s*/></c>|<c r="([A-Z]{1,3}\d+)"([^>]*)>'
                           r'<f>([^<]*)</f><v></v></c>')


def _cached_xml(ref: str, attributes: str, formula: str, value) -> str:
    from xml.sax.saxutils import escape

    attributes = re.sub(r'\st="[^"]*"', "", attributes)
    if isinstance(value, XLError):
        return f'<c r="{ref}"{attributes} t="e"><f>{formula}</f><v>{value.code}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{attributes} t="b"><f>{formula}</f><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{attributes}><f>{formula}</f><v>{_text(value) if abs(value) < 1e15 else repr(value)}</v></c>'
    return f'<c r="{ref}"{attributes} t="str"><f>{formula}</f><v>{escape(_text(value))}</v></c>'


def write_cached_values(path: Path, workbook: openpyxl.Workbook, today: dt.date | None = None) -> int:
    """Store the value of every formula openpyxl saved in `path` (from the same `workbook`) beside it;
    returns how many were stored."""
    values = cached_values(workbook, today)
    if not values:
        return 0
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        parts = {info.filename: archive.read(info) for info in infos}
    workbook_xml = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets.update({rid: target for target, rid in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"',
                                                               rels)})
    stored = 0
    for name, rid in re.findall(r'<sheet\b[^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', workbook_xml):
        from xml.sax.saxutils import unescape

        sheet = unescape(name, {"&quot;": '"', "&apos;": "'"})
        if sheet not in values:
            continue
        part = "xl/" + targets[rid].removeprefix("/xl/").removeprefix("xl/")
        mine = values[sheet]

        def patch(match: re.Match) -> str:
            nonlocal stored
            ref = match.group(1) or match.group(4)
            attributes = match.group(2) if match.group(1) else match.group(5)
            formula = match.group(3) if match.group(1) else match.group(6)
            if ref not in mine:
                return match.group(0)
            stored += 1
            return _cached_xml(ref, attributes, formula, mine[ref])

        parts[part] = _FORMULA_CELL.sub(patch, parts[part].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            archive.writestr(info, parts[info.filename])
    return stored
