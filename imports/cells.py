"""One cell of an import row read as the value of a product field, or refused with a message
(the row's error for that column). What the product export writes reads back as it was: its
decimals, dates and booleans, and text it guarded against spreadsheet formulas (a leading
apostrophe before `=`, `+`, `-`, `@`...) comes back without the apostrophe. Text that looks
like a formula is stored as text: it is never evaluated here, and the export guards it again
on the way out."""

import datetime
import decimal

from core.exports import FORMULA_PREFIXES
from core.fields import MAX_QUANTITY, MONEY_DIGITS, MONEY_PLACES

TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n"}
MAX_MONEY = decimal.Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)


class CellError(ValueError):
    """The cell cannot be the field's value: the message says why."""


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value, *, max_length: int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number in a workbook: 4006381333931
    result = value if isinstance(value, str) else str(value)
    result = result.strip()
    if result.startswith("'") and result[1:].startswith(FORMULA_PREFIXES):
        result = result[1:]  # the export's guard against formulas, taken off again
    if "\x00" in result:
        raise CellError("Text cannot contain a NUL character.")
    if len(result) > max_length:
        raise CellError(f"At most {max_length} characters ({len(result)} given).")
    return result


def money(value, *, decimal_comma: bool) -> decimal.Decimal:
    """A price or cost: >= 0, at most 2 decimal places (`4,50` in a semicolon file)."""
    if isinstance(value, bool):
        raise CellError("A decimal number is required.")
    if isinstance(value, int | float):
        number = decimal.Decimal(str(value))
    else:
        raw = str(value).strip()
        if decimal_comma and "," in raw:
            raw = raw.replace(".", "").replace(" ", "").replace(",", ".")
        try:
            number = decimal.Decimal(raw)
        except decimal.InvalidOperation:
            raise CellError(f"{raw!r} is not a decimal number.") from None
    if not number.is_finite():
        raise CellError("A decimal number is required.")
    if number < 0:
        raise CellError("Must be 0 or more.")
    if number >= MAX_MONEY:
        raise CellError(f"Must be less than {MAX_MONEY}.")
    if number != number.quantize(decimal.Decimal(1).scaleb(-MONEY_PLACES), rounding="ROUND_DOWN"):
        raise CellError(f"At most {MONEY_PLACES} decimal places.")
    return number.quantize(decimal.Decimal(1).scaleb(-MONEY_PLACES))


def whole_number(value) -> int:
    """A quantity or threshold: an integer from 0 to MAX_QUANTITY."""
    if isinstance(value, bool):
        raise CellError("A whole number is required.")
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError("A whole number is required.")
        value = int(value)
    if not isinstance(value, int):
        raw = str(value).strip()
        try:
            number = decimal.Decimal(raw)
        except decimal.InvalidOperation:
            raise CellError(f"{raw!r} is not a whole number.") from None
        if not number.is_finite() or not -1 <= number <= MAX_QUANTITY:
            raise CellError(f"Must be between 0 and {MAX_QUANTITY}.")
        if number != number.to_integral_value():
            raise CellError(f"{raw!r} is not a whole number.")
        value = int(number)
    if not 0 <= value <= MAX_QUANTITY:
        raise CellError(f"Must be between 0 and {MAX_QUANTITY}.")
    return value


def date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raw = str(value).strip()
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise CellError(f"{raw!r} is not a date (YYYY-MM-DD).") from None


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raw = str(value).strip().lower()
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise CellError(f"{str(value)!r} is not true or false.")
