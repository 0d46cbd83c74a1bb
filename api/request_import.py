"""Read a hotline's spreadsheet of requests (CSV or XLSX) into the request objects of §8.

Columns come in any order, under English names (``window_from``) or the Vietnamese headers a
hotline's spreadsheet carries (``Từ giờ``), with or without diacritics and in any case. Each
row becomes the same JSON object ``POST /v1/requests`` takes, so both are checked by one schema;
an error found on a field is reported under the column it came from.

A file that cannot be read at all raises :class:`UnreadableFile` (HTTP 422, nothing stored);
one with more than :data:`MAX_ROWS` rows raises :class:`~api.errors.PayloadTooLarge` (413).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from api.errors import PayloadTooLarge

MAX_ROWS = 10_000
"""Most data rows of one imported file (a province's busiest day is a few thousand)."""

HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("Mã yêu cầu", "Mã phiếu"),
    "kind": ("Loại", "Loại yêu cầu"),
    "dossier": ("Mã hồ sơ", "Số hồ sơ"),
    "date": ("Ngày", "Ngày hẹn"),
    "window_from": ("Từ giờ", "Từ"),
    "window_to": ("Đến giờ", "Đến"),
    "address": ("Địa chỉ",),
    "lat": ("Vĩ độ",),
    "lon": ("Kinh độ",),
    "handoff_site": ("Điểm bàn giao", "Bưu cục bàn giao"),
    "destination_site": ("Nơi nhận hồ sơ", "Nơi đến"),
    "origin_site": ("Nơi lấy kết quả", "Bưu cục trả"),
    "ready_at": ("Giờ có kết quả",),
    "ready_site": ("Nơi có kết quả",),
    "due": ("Hạn trả", "Hạn trả kết quả"),
    "service_min": ("Số phút phục vụ", "Phút phục vụ"),
    "size": ("Số kiện", "Số lượng"),
    "citizen_name": ("Họ tên", "Họ và tên", "Người yêu cầu"),
    "citizen_phone": ("Số điện thoại", "Điện thoại"),
    "citizen_id": ("Số CCCD", "CCCD", "Số định danh"),
    "procedure": ("Thủ tục", "Tên thủ tục"),
}
"""Each column's English name and the Vietnamese headers accepted for it."""

HEADER_ROWS = 10
"""Rows searched for the header (titles above it are skipped)."""

REQUIRED = ("id", "kind", "dossier", "date", "window_from", "window_to")

KINDS = {"pickup": "pickup", "return": "return", "nhan": "pickup", "nhan ho so": "pickup",
         "thu gom": "pickup", "tra": "return", "tra ket qua": "return"}  # fmt: skip
"""Values of ``kind``: English, or Vietnamese words for taking a dossier or returning a result."""

_CITIZEN = {"citizen_name": "name", "citizen_phone": "phone", "citizen_id": "id_number"}


class UnreadableFile(ValueError):  # noqa: N818 (the answer is "unreadable file")
    """The file is neither UTF-8 CSV nor XLSX, or lacks a needed column (HTTP 422)."""


def plain(text: str) -> str:
    """Fold a header or a word for comparison: no diacritics, ``đ`` as ``d``, lower case,
    ``_``, ``-`` and runs of spaces as one space."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(bare.replace("_", " ").replace("-", " ").split())


_BY_HEADER = {plain(name): column for column, names in HEADERS.items() for name in (column, *names)}


@dataclass(frozen=True)
class Row:
    """One data row: its number in the file (the header is row 1) and its cells by column."""

    number: int
    cells: dict[str, str]


def _columns(header: Sequence[Any]) -> list[str | None]:
    """Map each header cell to its column (``None``: a column buuta does not read)."""
    columns: list[str | None] = []
    for cell in header:
        column = _BY_HEADER.get(plain(_text(cell))) if cell is not None else None
        if column is not None and column in columns:
            msg = f"the header names the column {column!r} twice"
            raise UnreadableFile(msg)
        columns.append(column)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        names = ", ".join(f"{c} ({HEADERS[c][0]})" for c in missing)
        msg = f"the header row has no column for: {names}"
        raise UnreadableFile(msg)
    return columns


def _text(value: Any) -> str:
    """A cell as text: times as ``HH:MM``, dates as ``YYYY-MM-DD``, whole numbers bare."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(lines: Iterator[Sequence[Any]]) -> tuple[int, list[str | None]]:
    """Find the header row: the first of the first :data:`HEADER_ROWS` rows that names every
    required column (a hotline's sheet often starts with a title or the day's date)."""
    first_problem: UnreadableFile | None = None
    for number, line in enumerate(itertools.islice(lines, HEADER_ROWS), start=1):
        try:
            return number, _columns(line)
        except UnreadableFile as exc:
            if first_problem is None and any(_text(v) for v in line if v is not None):
                first_problem = exc
    if first_problem is None:
        msg = "the file is empty: the first row must name the columns"
        raise UnreadableFile(msg)
    raise first_problem


def _rows(lines: Iterator[Sequence[Any]]) -> list[Row]:
    header_at, columns = _header(lines)
    rows: list[Row] = []
    for number, line in enumerate(lines, start=header_at + 1):
        texts = (
            (column, _text(value))
            for column, value in zip(columns, line, strict=False)
            if column is not None and value is not None
        )
        cells = {column: text for column, text in texts if text != ""}
        if not cells:
            continue  # a blank line between blocks of rows
        if len(rows) == MAX_ROWS:
            msg = f"a file may hold at most {MAX_ROWS} rows; this one has more"
            raise PayloadTooLarge(msg)
        rows.append(Row(number, cells))
    return rows


def _csv_lines(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        msg = "the file is neither an XLSX workbook nor CSV text in UTF-8 (save it as 'CSV UTF-8')"
        raise UnreadableFile(msg) from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # Excel in a Vietnamese locale writes ';'
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    except csv.Error as exc:
        msg = f"the CSV text cannot be read ({exc})"
        raise UnreadableFile(msg) from None


def _xlsx_lines(data: bytes) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook  # noqa: PLC0415 (only imports read workbooks)

    # A damaged workbook fails deep inside openpyxl, zipfile or the XML parser with many kinds
    # of exception (BadZipFile, KeyError, ParseError, TypeError ...): all mean "unreadable".
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        msg = f"the XLSX workbook cannot be opened ({type(exc).__name__})"
        raise UnreadableFile(msg) from None
    try:
        if not book.worksheets:
            msg = "the XLSX workbook has no worksheet"
            raise UnreadableFile(msg)
        yield from book.worksheets[0].iter_rows(values_only=True)
    except UnreadableFile:
        raise
    except Exception as exc:
        msg = f"the XLSX workbook cannot be read ({type(exc).__name__})"
        raise UnreadableFile(msg) from None
    finally:
        book.close()


def read_rows(data: bytes, filename: str | None = None) -> list[Row]:
    """Read the data rows of a CSV or XLSX file (told apart by content, not by name).

    Raises
    ------
    UnreadableFile
        When it is neither, or its header lacks a required column.
    PayloadTooLarge
        When it has more than :data:`MAX_ROWS` rows.
    """
    if data.startswith(b"PK\x03\x04") or (filename or "").lower().endswith(".xlsx"):
        return _rows(iter(_xlsx_lines(data)))
    return _rows(iter(_csv_lines(data)))


_HOUR = re.compile(r"^(\d{1,2})\s*(?:h|:|g|giờ|gio)\s*(\d{2})?$", re.IGNORECASE)
_TIME_COLUMNS = ("window_from", "window_to", "ready_at")


def hour_text(text: str) -> str:
    """A time as typed in a Vietnamese spreadsheet (``8h``, ``8h30``, ``8:30``) as ``HH:MM``;
    anything else is left for the planner's reader to judge."""
    match = _HOUR.match(text.strip())
    if match is None:
        return text
    return f"{int(match.group(1)):02d}:{match.group(2) or '00'}"


def request_of(row: Row) -> dict[str, Any]:
    """The request object of §8 (as ``POST /v1/requests`` takes it) that a row describes."""
    cells = {k: hour_text(v) if k in _TIME_COLUMNS else v for k, v in row.cells.items()}
    item: dict[str, Any] = {
        k: v for k, v in cells.items() if k not in _CITIZEN and not k.startswith("window")
    }
    item["window"] = [cells.get("window_from"), cells.get("window_to")]
    if "kind" in cells:
        item["kind"] = KINDS.get(plain(cells["kind"]), cells["kind"])
    citizen = {name: cells[column] for column, name in _CITIZEN.items() if column in cells}
    if citizen:
        item["citizen"] = citizen
    return item


def column_of(loc: Sequence[int | str]) -> str:
    """The column (or flat field name) of a validation error's location in a request object."""
    if not loc:
        return "row"
    head = str(loc[0])
    if head == "window" and len(loc) > 1:
        return "window_to" if loc[1] == 1 else "window_from"
    if head == "citizen" and len(loc) > 1:
        return {"name": "citizen_name", "phone": "citizen_phone"}.get(str(loc[1]), "citizen_id")
    return head
