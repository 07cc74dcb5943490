"""Reading an uploaded spreadsheet row by row, never the whole file as Python objects.

A CSV (UTF-8 with or without a byte-order mark, comma or semicolon separated) is read by the
`csv` module over lines decoded one at a time, so a byte that is not UTF-8 is found with the
row it is in. An `.xlsx` workbook's first sheet is read by openpyxl in read-only (streaming)
mode, after a look at its zip directory: a workbook whose parts unpack to more than
IMPORT_XLSX_MAX_UNCOMPRESSED bytes is refused before it is opened, and one whose sheet holds
more than IMPORT_MAX_CELLS cells is refused while it is read (zip bombs).

Rows are numbered as the spreadsheet shows them: the header is row 1.
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from core.errors import BrokenRule

CSV, XLSX = "csv", "xlsx"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an old Excel .xls (or another Office 97 file)
BYTE_ORDER_MARK = "\ufeff"
MAX_COLUMNS = 200  # a header wider than this is no product list
XLSX_HINT = "Save it as .xlsx or as CSV UTF-8."


class FileRefused(BrokenRule):
    """The file cannot be read as a spreadsheet of rows (a 400 naming `file`)."""

    def __init__(self, message: str):
        super().__init__(message, field="file")


class _NotUtf8(Exception):
    pass


@dataclass
class Sheet:
    """An opened file: its format, its header (names as written, stripped) and a way to read
    its data rows again from the start, as (row number, cells) with blank rows left out."""

    data: bytes
    file_format: str
    header: list[str]
    delimiter: str = ","

    @property
    def decimal_comma(self) -> bool:
        """A semicolon-separated file is written where the comma is the decimal mark."""
        return self.delimiter == ";"

    def rows(self) -> Iterator[tuple[int, list]]:
        reader = _csv_records(self.data, self.delimiter) if self.file_format == CSV else (
            _xlsx_records(self.data, width=len(self.header))
        )  # fmt: skip
        for number, cells in reader:
            if number == 1:
                continue  # the header
            if any(not _blank(cell) for cell in cells):
                yield number, cells


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def open_sheet(data: bytes) -> Sheet:
    """The file as a sheet of rows, its header read; FileRefused when it is neither a CSV in
    UTF-8 nor an .xlsx workbook."""
    if not data.strip():
        raise FileRefused("The file is empty.")
    if data.startswith(ZIP_MAGIC):
        return Sheet(data, XLSX, _xlsx_header(data))
    if data.startswith(OLE_MAGIC):
        raise FileRefused(f"This is an old Excel (.xls) file, which is not read. {XLSX_HINT}")
    if b"\x00" in data[:8192]:
        raise FileRefused(f"The file is neither a CSV nor an .xlsx workbook. {XLSX_HINT}")
    delimiter = _delimiter(data)
    for _, cells in _csv_records(data, delimiter):
        return Sheet(data, CSV, [str(cell) for cell in cells], delimiter)
    raise FileRefused("The file is empty.")


def count_rows(sheet: Sheet, *, limit: int) -> int:
    """The sheet's data rows (blank rows left out), reading it through once (which checks its
    encoding, and an .xlsx's cell count): FileRefused past `limit` rows."""
    count = 0
    for _ in sheet.rows():
        count += 1
        if count > limit:
            raise FileRefused(
                f"The file has more than {limit} rows; split it into files of at most {limit} rows."
            )
    return count


# --- CSV ---------------------------------------------------------------------------------------


def _delimiter(data: bytes) -> str:
    """Semicolon when the header has more semicolons than commas (spreadsheets write it where
    the comma is the decimal mark), else comma."""
    first = data.split(b"\n", 1)[0]
    return ";" if first.count(b";") > first.count(b",") else ","


def _decoded_lines(data: bytes) -> Iterator[str]:
    """The file's lines decoded one at a time (a line break is never inside a UTF-8
    character); the byte-order mark dropped."""
    first = True
    for raw in io.BytesIO(data):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _NotUtf8 from None
        if first:
            line = line.removeprefix(BYTE_ORDER_MARK)
            first = False
        yield line


def _csv_records(data: bytes, delimiter: str) -> Iterator[tuple[int, list]]:
    number = 0
    reader = csv.reader(_decoded_lines(data), delimiter=delimiter)
    try:
        for record in reader:
            number += 1
            yield number, record
    except _NotUtf8:
        raise FileRefused(
            f"Row {number + 1} is not UTF-8 text: save the file as CSV UTF-8 (or as .xlsx)."
        ) from None
    except csv.Error as exc:
        raise FileRefused(f"Row {number + 1} cannot be read as CSV: {exc}.") from None


# --- XLSX --------------------------------------------------------------------------------------


def _workbook(data: bytes):
    """The workbook, opened read-only, once its zip directory says it unpacks to no more than
    IMPORT_XLSX_MAX_UNCOMPRESSED bytes (zipfile never unpacks more than a part declares)."""
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(f"The file is neither a CSV nor an .xlsx workbook. {XLSX_HINT}") from None
    cap = settings.IMPORT_XLSX_MAX_UNCOMPRESSED
    if unpacked > cap:
        raise FileRefused(
            f"The workbook unpacks to {unpacked} bytes, more than the {cap} byte limit."
        )
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a zip that is no workbook
        raise FileRefused(f"The file is not an .xlsx workbook. {XLSX_HINT}") from None


def _xlsx_header(data: bytes) -> list[str]:
    workbook = _workbook(data)
    try:
        if not workbook.worksheets:
            raise FileRefused("The workbook has no sheet.")
        sheet = workbook.worksheets[0]
        for cells in sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS, values_only=True):
            header = ["" if cell is None else str(cell) for cell in cells]
            while header and not header[-1].strip():
                header.pop()
            return header
        raise FileRefused("The workbook's first sheet is empty.")
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(f"The workbook's first sheet cannot be read. {XLSX_HINT}") from None
    finally:
        workbook.close()


def _xlsx_records(data: bytes, *, width: int) -> Iterator[tuple[int, list]]:
    """The first sheet's rows, `width` cells each (the header's), counting the cells read."""
    cap = settings.IMPORT_MAX_CELLS
    workbook = _workbook(data)
    cells = 0
    try:
        rows = workbook.worksheets[0].iter_rows(max_col=max(width, 1), values_only=True)
        for number, values in enumerate(rows, start=1):
            cells += width
            if cells > cap:
                raise FileRefused(f"The workbook holds more than {cap} cells.")
            yield number, [_xlsx_value(value) for value in values]
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(f"The workbook's first sheet cannot be read. {XLSX_HINT}") from None
    finally:
        workbook.close()


def _xlsx_value(value):
    """A cell as the import reads it: text, a number, a bool, a date; a formula is its text."""
    if isinstance(value, datetime.datetime):
        return value.date() if value.time() == datetime.time() else value
    return value
