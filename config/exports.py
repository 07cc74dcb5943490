"""Streamed CSV downloads: rows leave as they are read, never built in memory (DESIGN rule 7)."""

import csv
import datetime
import json
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from rest_framework import renderers
from rest_framework.fields import DateTimeField

# Text a spreadsheet would run as a formula gets a leading apostrophe.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_timestamp = DateTimeField()


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value):
        return value


def csv_cell(value) -> str:
    """One cell, written as the JSON API writes the value, and safe to open in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _timestamp.to_representation(value)  # ISO 8601 in UTC, like the JSON
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(header: list[str], rows: Iterable[tuple]) -> Iterator[str]:
    """Yield the header, then one CSV line per row, one at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_download(*, header: list[str], rows: Iterable[tuple], filename: str):
    """A streamed `text/csv` attachment named `filename`."""
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CSVRenderer(renderers.BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation for an export action.

    The export streams its own body; this renders only errors, as JSON labelled as JSON.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data)
