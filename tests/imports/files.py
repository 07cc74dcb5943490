"""Spreadsheet files made in the tests: CSV in both dialects, XLSX written with openpyxl."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile

HEADER = ["sku", "name", "price", "cost_price", "quantity", "category_name", "supplier_name"]


def csv_bytes(rows, *, header=HEADER, delimiter=",", bom=False) -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = ("\ufeff" if bom else "") + buffer.getvalue()
    return text.encode("utf-8")


def xlsx_bytes(rows, *, header=HEADER) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name="products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post_import(client, data: bytes, *, name="products.csv", **options):
    body = {"file": upload(data, name), **{k: _form(v) for k, v in options.items()}}
    return client.post("/api/imports/", body, format="multipart")


def _form(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
