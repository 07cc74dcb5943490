"""Spreadsheet imports of products (API.md, Imports): checked, then written all or nothing.

One code path for the dry run and the real run: the real run, in a savepoint that a dry run
(or any error) rolls back, so a dry run that says `checked` has done everything the real run
will do. The file is read twice, streamed in chunks of CHUNK_ROWS rows (never held as Python
objects):

1. the check: every row's cells, duplicates within the file, SKUs and barcodes against the
   organization's products, category and supplier names; every error of every row is
   collected, and nothing is written or locked;
2. when nothing is wrong: the products the file matches (with their variations) are locked in
   ONE id order (ascending chunks), the missing categories and suppliers made, then each chunk
   is written set-based: new products by `stock.services.create_products_with_stock` (one
   INSERT, their opening stock one `IN` each with source `import` at `cost_price`, through the
   books), changed ones by `stock.services.update_products_with_stock` (one `bulk_update`,
   threshold crossings to the outbox). Stock of an existing product is never set by a file.

Concurrency: imports of one organization run one at a time (a PostgreSQL transaction-level
advisory lock, `core.db.one_at_a_time("imports:<organization>")`), so two imports of
overlapping SKUs never both create one: the second sees the first's products and updates them
(or, in `create` mode, reports them as existing). A product created by the API meanwhile
meets the unique SKU constraint: the import fails and writes nothing. The organization's row
is never locked; its products only as the import updates them (readers never wait on row
locks), new ones are invisible until the import commits.

A job runs under its row's lock (`SELECT ... FOR UPDATE SKIP LOCKED`) for its whole
transaction: never twice at once; a worker that dies releases it with its connection, its
writes undone, and the sweep (`imports.tasks.requeue_stuck_imports`) queues the job again.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.db import lock_all_in_id_order, one_at_a_time
from core.errors import BrokenRule, DomainError
from core.events import emit
from imports import cells
from imports.models import ImportJob
from imports.reading import FileRefused, Sheet, count_rows, open_sheet
from inventory import services as catalogue
from inventory.models import Category, Product
from inventory.services import ProductFields
from stock import services as stock_services
from suppliers import services as supplier_services
from suppliers.models import Supplier

logger = logging.getLogger(__name__)

Status = ImportJob.Status
Mode = ImportJob.Mode

# The product export's columns that an import reads (by header name, any order).
COLUMNS = (
    "sku",
    "barcode",
    "name",
    "description",
    "category_name",
    "supplier_name",
    "price",
    "cost_price",
    "low_stock_threshold",
    "expiration_date",
    "quantity",
    "track_lots",
)
REQUIRED_COLUMNS = ("sku", "name")
# The export's figures that an import does not read (the round trip brings them back).
EXPORT_ONLY_COLUMNS = frozenset(
    {
        "id", "category", "supplier", "average_cost", "allocated", "available",
        "expired_quantity", "is_low_stock", "is_expired", "stock_value", "parent",
        "attributes", "on_order", "last_counted_at", "created_at", "updated_at",
    }
)  # fmt: skip
MAX_LENGTHS = {
    "sku": Product._meta.get_field("sku").max_length,
    "barcode": Product._meta.get_field("barcode").max_length,
    "name": Product._meta.get_field("name").max_length,
    "description": 20_000,
    "category_name": Category._meta.get_field("name").max_length,
    "supplier_name": Supplier._meta.get_field("name").max_length,
}
CHUNK_ROWS = 1000
LOCK_CHUNK = 5000
MAX_REPORTED = 10_000  # errors (and warnings) listed; past that, one line says how many more
MAX_ATTEMPTS = 3  # runs that stopped without finishing (a worker killed); then it fails
STUCK_AFTER = datetime.timedelta(minutes=1)
KEEP_FILES = datetime.timedelta(days=1)  # a checked dry run's file, for the real run


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


# --- The report --------------------------------------------------------------------------------


@dataclass
class Report:
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append({"row": row, "column": column, "message": message})

    def warning(self, row: int | None, column: str | None, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_REPORTED:
            self.warnings.append({"row": row, "column": column, "message": message})

    def listed(self, kind: str) -> list:
        items, count = getattr(self, f"{kind}s"), getattr(self, f"{kind}_count")
        if count > len(items):
            more = {"row": None, "column": None, "message": f"... and {count - len(items)} "
                    f"more {kind}s."}  # fmt: skip
            return [*items, more]
        return list(items)


class _RollBack(Exception):
    """Leave the savepoint without its writes: a dry run, or errors."""


class _ChangedMeanwhile(Exception):
    """The write pass found an error the check had not (a concurrent change)."""


# --- The file's shape --------------------------------------------------------------------------


def column_name(header: str) -> str:
    return str(header).strip().lower().replace(" ", "_")


def check_header(header: list[str]) -> None:
    """The header names `sku` and `name`, each column once (FileRefused otherwise)."""
    names = [column_name(name) for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise FileRefused(
            "The header row (row 1) must name the columns sku and name; missing: "
            f"{', '.join(missing)}. Columns are the product export's."
        )
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise FileRefused(f"The header names these columns more than once: {', '.join(twice)}.")


def read_file(data: bytes) -> tuple[Sheet, int]:
    """Open and check the file (format, encoding, header, at most IMPORT_MAX_ROWS rows):
    FileRefused (400) otherwise. Returns it with its number of data rows."""
    sheet = open_sheet(data)
    check_header(sheet.header)
    return sheet, count_rows(sheet, limit=settings.IMPORT_MAX_ROWS)


# --- Starting, running, sweeping ---------------------------------------------------------------


def create_job(
    *,
    organization,
    user,
    file_name: str,
    data: bytes,
    dry_run: bool = True,
    mode: str = Mode.UPSERT,
    create_missing: bool = False,
    location=None,
    kind: str = ImportJob.Kind.PRODUCTS,
) -> ImportJob:
    """Check the file's shape (a FileRefused 400 otherwise, nothing stored) and record the job,
    queued: `imports.jobs.start_import` runs it here or has a worker run it."""
    sheet, total = read_file(data)
    return ImportJob.objects.create(
        organization=organization,
        kind=kind,
        file_name=(file_name or "upload")[:255],
        file_format=sheet.file_format,
        data=data,
        dry_run=dry_run,
        mode=mode,
        create_missing=create_missing,
        location=location,
        total_rows=total,
        created_by=user if getattr(user, "pk", None) else None,
    )


def _claim(job_id: int) -> bool:
    """Mark the job running (one more attempt), unless another worker runs it (its row is
    locked), it has finished, or it stopped MAX_ATTEMPTS times already (then it fails)."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, status__in=[Status.QUEUED, Status.RUNNING])
            .first()
        )
        if job is None:
            return False
        now = timezone.now()
        if job.attempts >= MAX_ATTEMPTS:
            message = (f"The import stopped {job.attempts} times without finishing; nothing was "
                       "written. Upload the file again, or split it.")  # fmt: skip
            ImportJob.objects.filter(pk=job.pk).update(
                status=Status.FAILED,
                errors=[{"row": None, "column": None, "message": message}],
                processed_rows=0,
                finished_at=now,
                data=None,
            )
            return False
        ImportJob.objects.filter(pk=job.pk).update(
            status=Status.RUNNING, attempts=job.attempts + 1, started_at=now
        )
        return True


def run_import(*, job_id: int) -> ImportJob | None:
    """Run a queued (or stopped) job once: its row stays locked for the whole run, so a second
    worker skips it; the result and the products are committed together. None when there was
    nothing to run (finished, or another worker has it)."""
    if not _claim(job_id):
        return None
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("organization", "created_by", "location")
            .filter(pk=job_id, status=Status.RUNNING)
            .first()
        )
        if job is None:
            return None
        importer = ProductImporter(job)
        importer.execute()
        report = importer.report
        if report.error_count:
            job.status = Status.FAILED
        else:
            job.status = Status.CHECKED if job.dry_run else Status.DONE
        written = not report.error_count
        job.total_rows = importer.total_rows
        job.processed_rows = importer.total_rows
        job.created = importer.counts["created"] if written else 0
        job.updated = importer.counts["updated"] if written else 0
        job.unchanged = importer.counts["unchanged"] if written else 0
        job.errors = report.listed("error")
        job.warnings = report.listed("warning")
        job.finished_at = timezone.now()
        if job.status != Status.CHECKED:
            job.data = None  # kept for a checked dry run only: the real run the admin offers
        job.save()
        if job.status == Status.DONE:  # in the import's transaction (core.events)
            emit(
                organization_id=job.organization_id,
                type="import.done",
                data={
                    "id": job.pk, "kind": job.kind, "file_name": job.file_name,
                    "mode": job.mode, "total_rows": job.total_rows, "created": job.created,
                    "updated": job.updated, "unchanged": job.unchanged,
                },
            )  # fmt: skip
    cache.delete(progress_key(job_id))
    logger.info(
        "Import %s %s: %s rows, %s created, %s updated, %s errors",
        job.pk, job.status, job.total_rows, job.created, job.updated, report.error_count,
    )  # fmt: skip
    return job


def stuck_imports(*, now=None) -> list[int]:
    """The jobs to queue again: those that wait (their task lost: the broker was down) or that
    a dead worker left running, for more than STUCK_AFTER, and whose row no worker holds
    locked (SKIP LOCKED). Files of finished jobs older than KEEP_FILES are let go."""
    now = now or timezone.now()
    cutoff = now - STUCK_AFTER
    with transaction.atomic():
        stuck = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=Status.QUEUED, created_at__lt=cutoff)
                | Q(status=Status.RUNNING, started_at__lt=cutoff)
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:100]
        )
    ImportJob.objects.filter(finished_at__lt=now - KEEP_FILES, data__isnull=False).update(data=None)
    return stuck


# --- The import of products --------------------------------------------------------------------


@dataclass
class Row:
    number: int
    values: dict  # column -> its value (None: the cell is empty), for the file's columns
    key: str = ""  # the SKU, lower case
    failed: bool = False
    bad_columns: set = field(default_factory=set)  # reported already

    def refuse(self, report: "Report", column: str, message: str) -> None:
        if column not in self.bad_columns:
            report.error(self.number, column, message)
        self.bad_columns.add(column)
        self.failed = True


class ProductImporter:
    """One job's import of products (see the module's docstring)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.organization = job.organization
        self.report = Report()
        self.counts = {"created": 0, "updated": 0, "unchanged": 0}
        self.total_rows = job.total_rows
        self._progress = 0
        self._categories: dict[str, int | None] = {}  # lower name -> id (None: to be made)
        self._suppliers: dict[str, int | None] = {}
        self._missing: dict[str, dict[str, str]] = {"category": {}, "supplier": {}}
        self._matched: set[int] = set()
        self._parents: set[int] = set()
        self._skus: dict[str, int] = {}
        self._barcodes: dict[str, int] = {}
        self._instances: dict[tuple, object] = {}

    # -- the run

    def execute(self) -> None:
        """Check, then (nothing wrong) write, in a savepoint that a dry run or an error rolls
        back; every refusal becomes the report's error."""
        try:
            self.sheet = open_sheet(bytes(self.job.data))
            check_header(self.sheet.header)
            self.positions = {
                name: index
                for index, name in enumerate(map(column_name, self.sheet.header))
                if name in COLUMNS
            }
            self._header_warnings()
            with one_at_a_time(f"imports:{self.organization.pk}"), transaction.atomic():
                self._pass(write=False)
                if self.report.error_count:
                    raise _RollBack
                self._lock_matched()
                self._make_missing_references()
                self._skus.clear()
                self._barcodes.clear()
                self.counts = dict.fromkeys(self.counts, 0)
                self._pass(write=True)
                if self.job.dry_run:
                    raise _RollBack
        except _RollBack:
            pass
        except _ChangedMeanwhile:
            pass  # its errors are in the report
        except FileRefused as refusal:
            self.report.error(None, "file", str(refusal.message))
        except DomainError as refusal:
            self.report.error(None, refusal.field, str(refusal.message))
        except IntegrityError:
            self.report.error(
                None, "sku",
                "Another request changed these products meanwhile; nothing was written: run "
                "the import again.",
            )  # fmt: skip

    def _header_warnings(self) -> None:
        for header in self.sheet.header:
            name = column_name(header)
            if not name or name in COLUMNS:
                continue
            reason = (
                "the export's read-only column: ignored"
                if name in EXPORT_ONLY_COLUMNS
                else "unknown column: ignored"
            )
            self.report.warning(1, header.strip(), f"{header.strip()}: {reason}.")

    def _pass(self, *, write: bool) -> None:
        rows = 0
        chunk: list[tuple[int, list]] = []
        for number, row_cells in self.sheet.rows():
            rows += 1
            chunk.append((number, row_cells))
            if len(chunk) == CHUNK_ROWS:
                self._chunk(chunk, write=write)
                chunk = []
        if chunk:
            self._chunk(chunk, write=write)
        if rows > settings.IMPORT_MAX_ROWS:
            raise FileRefused(f"The file has more than {settings.IMPORT_MAX_ROWS} rows.")
        self.total_rows = rows

    def _advance(self, rows: int) -> None:
        """processed_rows moves on over both passes (half a row each), read by GET from the
        cache while the job's transaction is open."""
        self._progress += rows
        done = min(self._progress // 2, self.total_rows)
        cache.set(progress_key(self.job.pk), done, timeout=24 * 3600)

    # -- one chunk

    def _chunk(self, raw: list[tuple[int, list]], *, write: bool) -> None:
        report = Report() if write else self.report  # the check reported everything already
        rows = [self._parse(number, row_cells, report) for number, row_cells in raw]
        self._within_file(rows, report)
        existing = self._existing({row.key for row in rows if row.key})
        self._resolve_names(rows, report, write=write)
        self._check_barcodes(rows, report)
        creates, updates = [], []
        for row in rows:
            plan = self._plan(row, existing.get(row.key), report) if row.key else None
            if plan is None:
                continue
            if plan[0] == "create":
                creates.append(plan[1:])
            elif plan[0] == "update":
                updates.append(plan[1:])
            else:
                self.counts["unchanged"] += 1
        self.counts["created"] += len(creates)
        self.counts["updated"] += len(updates)
        if write:
            if report.error_count:
                for item in report.errors:
                    self.report.error(item["row"], item["column"], item["message"])
                raise _ChangedMeanwhile
            self._write(creates, updates)
        self._advance(len(raw))

    def _parse(self, number: int, row_cells: list, report: Report) -> Row:
        """The row's cells read as field values; each cell that cannot be is the row's error."""
        row = Row(number=number, values={})
        decimal_comma = self.sheet.decimal_comma
        for column, index in self.positions.items():
            value = row_cells[index] if index < len(row_cells) else None
            if cells.is_blank(value):
                row.values[column] = None
                continue
            try:
                if column in MAX_LENGTHS:
                    parsed = cells.text(value, max_length=MAX_LENGTHS[column]) or None
                elif column in ("price", "cost_price"):
                    parsed = cells.money(value, decimal_comma=decimal_comma)
                elif column in ("low_stock_threshold", "quantity"):
                    parsed = cells.whole_number(value)
                elif column == "expiration_date":
                    parsed = cells.date(value)
                else:
                    parsed = cells.boolean(value)
            except cells.CellError as problem:
                row.refuse(report, column, str(problem))
                continue
            row.values[column] = parsed
        if row.values.get("sku"):
            row.key = row.values["sku"].lower()
        elif "sku" in row.values:  # empty (a SKU that could not be read is reported already)
            row.refuse(report, "sku", "A SKU is required: rows are matched to products by SKU.")
        return row

    def _within_file(self, rows: list[Row], report: Report) -> None:
        """A SKU or barcode appears once in the file (whatever its case)."""
        for row in rows:
            if row.key:
                first = self._skus.setdefault(row.key, row.number)
                if first != row.number:
                    row.refuse(report, "sku", f"SKU {row.values['sku']} is on row {first} "
                               "already.")  # fmt: skip
            barcode = row.values.get("barcode")
            if barcode:
                first = self._barcodes.setdefault(barcode.lower(), row.number)
                if first != row.number:
                    row.refuse(report, "barcode", f"Barcode {barcode} is on row {first} "
                               "already.")  # fmt: skip

    def _existing(self, keys: set[str]) -> dict[str, Product]:
        """The organization's products with these SKUs (lower case), archived ones included."""
        if not keys:
            return {}
        products = (
            Product.objects.annotate(sku_key=Lower("sku"))
            .filter(organization_id=self.organization.pk, sku_key__in=sorted(keys))
        )  # fmt: skip
        return {product.sku_key: product for product in products}

    def _resolve_names(self, rows: list[Row], report: Report, *, write: bool) -> None:
        for kind, column, model, known in (
            ("category", "category_name", Category, self._categories),
            ("supplier", "supplier_name", Supplier, self._suppliers),
        ):
            wanted = {row.values[column].lower() for row in rows if row.values.get(column)}
            unknown = wanted - known.keys()
            if unknown:
                found = (
                    model.objects.annotate(name_key=Lower("name"))
                    .filter(organization_id=self.organization.pk, name_key__in=sorted(unknown))
                    .order_by("pk")
                    .values_list("name_key", "pk")
                )
                for key, pk in found:
                    known.setdefault(key, pk)
            for row in rows:
                name = row.values.get(column)
                if not name or name.lower() in known:
                    continue
                if self.job.create_missing and not write:
                    self._missing[kind].setdefault(name.lower(), name)
                    continue
                row.refuse(
                    report, column,
                    f"There is no {kind} named {name!r}"
                    + ("." if self.job.create_missing else " (create_missing makes it)."),
                )  # fmt: skip

    def _check_barcodes(self, rows: list[Row], report: Report) -> None:
        """A barcode is not another product's (whatever its case)."""
        wanted = {row.values["barcode"].lower(): row for row in rows if row.values.get("barcode")}
        if not wanted:
            return
        holders = (
            Product.objects.annotate(barcode_key=Lower("barcode"), sku_key=Lower("sku"))
            .filter(organization_id=self.organization.pk, barcode_key__in=sorted(wanted))
            .values_list("barcode_key", "sku_key", "sku")
        )
        for barcode_key, sku_key, sku in holders:
            row = wanted[barcode_key]
            if sku_key != row.key:
                row.refuse(report, "barcode", f"Barcode {row.values['barcode']} is another "
                           f"product's ({sku}).")  # fmt: skip

    def _instance(self, model, pk: int | None):
        """The category or supplier of this id, one instance per import (a reference only)."""
        if pk is None:
            return None
        key = (model, pk)
        if key not in self._instances:
            self._instances[key] = model(pk=pk, organization_id=self.organization.pk)
        return self._instances[key]

    def _reference(self, row: Row, column: str, known: dict) -> int | None:
        name = row.values.get(column)
        return known.get(name.lower()) if name else None

    def _plan(self, row: Row, product: Product | None, report: Report):
        """What the row does: ("create", fields, quantity), ("update", product, changes,
        fields), ("unchanged",), or None with its errors reported."""
        values = row.values
        errors = []
        if product is None:
            if self.job.mode == Mode.UPDATE:
                row.refuse(report, "sku", f"No product has the SKU {values['sku']} (mode "
                             "update creates none).")  # fmt: skip
                return None
            if not values.get("name"):
                errors.append(("name", "A name is required for a new product."))
            if values.get("price") is None:
                errors.append(("price", "A price is required for a new product."))
            track_lots = bool(values.get("track_lots"))
            quantity = values.get("quantity") or 0
            if track_lots and values.get("expiration_date"):
                errors.append(("expiration_date", "A lot-tracked product's expiry is its lots': "
                               "give it with the IN that names the lot."))  # fmt: skip
            if track_lots and quantity:
                errors.append(("quantity", "A lot-tracked product's opening stock needs a "
                               "movement that names its lot; leave quantity empty."))  # fmt: skip
            for column, message in errors:
                row.refuse(report, column, message)
            if row.failed:
                return None
            category = self._reference(row, "category_name", self._categories)
            supplier = self._reference(row, "supplier_name", self._suppliers)
            fields = ProductFields(
                name=values["name"],
                price=values["price"],
                sku=values["sku"],
                barcode=values.get("barcode"),
                description=values.get("description") or "",
                category=self._instance(Category, category),
                supplier=self._instance(Supplier, supplier),
                cost_price=values.get("cost_price"),
                low_stock_threshold=values.get("low_stock_threshold") or 0,
                track_lots=track_lots,
                expiration_date=values.get("expiration_date"),
            )  # fmt: skip
            return ("create", fields, quantity)
        if product.is_archived:
            row.refuse(report, "sku", f"An archived product has the SKU {product.sku} (id "
                         f"{product.pk}): restore it first.")  # fmt: skip
            return None
        if self.job.mode == Mode.CREATE:
            row.refuse(report, "sku", f"A product with the SKU {product.sku} exists "
                         "already (mode create).")  # fmt: skip
            return None
        self._matched.add(product.pk)
        if product.has_variations:
            self._parents.add(product.pk)
        changes = {}
        for column in ("name", "price", "low_stock_threshold", "track_lots"):
            if values.get(column) is not None:  # an empty cell keeps the value
                changes[column] = values[column]
        for column in ("barcode", "cost_price", "expiration_date"):
            if column in values:
                changes[column] = values[column]
        if "description" in values:
            changes["description"] = values["description"] or ""
        if "category_name" in values:
            changes["category_id"] = self._reference(row, "category_name", self._categories)
        if "supplier_name" in values:
            changes["supplier_id"] = self._reference(row, "supplier_name", self._suppliers)
        changes = {name: value for name, value in changes.items()
                   if getattr(product, name) != value}  # fmt: skip
        if product.parent_id is not None:
            for name in ("category_id", "supplier_id"):
                if name in changes:
                    errors.append((name.removesuffix("_id") + "_name", "A variation's "
                                   f"{name.removesuffix('_id')} is its parent's."))  # fmt: skip
        if "track_lots" in changes:
            if product.quantity or product.allocated:
                message = (f"{product.sku} holds {product.quantity} in stock: lot tracking "
                           "can be switched only while it holds none.")  # fmt: skip
                errors.append(("track_lots", message))
            elif changes["track_lots"]:
                changes["expiration_date"] = None  # its expiry is its lots' now
        elif product.track_lots and "expiration_date" in changes:
            errors.append(("expiration_date", f"{product.sku} tracks lots: its expiry is its "
                           "lots' (PATCH /api/lots/{id}/)."))  # fmt: skip
        for column, message in errors:
            row.refuse(report, column, message)
        if row.failed:
            return None
        quantity = values.get("quantity")
        if quantity is not None and quantity != product.quantity:
            report.warning(row.number, "quantity", f"{product.sku} holds {product.quantity}, the "
                           f"file says {quantity}: an import never changes the stock of an "
                           "existing product (record a movement or a stocktake).")  # fmt: skip
        if not changes:
            return ("unchanged",)
        return ("update", product, changes)

    # -- writing

    def _lock_matched(self) -> None:
        """Lock the products the file matches, with the variations of those that have some, in
        one id order (ascending chunks), before any of them is read for writing."""
        ids = set(self._matched)
        parents = sorted(self._parents)
        for start in range(0, len(parents), LOCK_CHUNK):
            chunk = parents[start : start + LOCK_CHUNK]
            ids.update(Product.objects.filter(parent_id__in=chunk).values_list("pk", flat=True))
        ordered = sorted(ids)
        for start in range(0, len(ordered), LOCK_CHUNK):
            lock_all_in_id_order(Product.objects.filter(pk__in=ordered[start : start + LOCK_CHUNK]))

    def _make_missing_references(self) -> None:
        """The categories and suppliers the file names that do not exist yet (create_missing),
        through the catalogue's services."""
        for key, name in sorted(self._missing["category"].items()):
            try:
                self._categories[key] = catalogue.create_category(
                    organization=self.organization, name=name
                ).pk
            except BrokenRule:  # made meanwhile
                self._categories[key] = (
                    Category.objects.filter(organization=self.organization, name__iexact=name)
                    .values_list("pk", flat=True)
                    .first()
                )
        for key, name in sorted(self._missing["supplier"].items()):
            try:
                self._suppliers[key] = supplier_services.create_supplier(
                    organization=self.organization, name=name
                ).pk
            except BrokenRule:
                self._suppliers[key] = (
                    Supplier.objects.filter(organization=self.organization, name__iexact=name)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                    .first()
                )

    def _write(self, creates: list, updates: list) -> None:
        if creates:
            stock_services.create_products_with_stock(
                organization=self.organization,
                products=creates,
                user=self.job.created_by,
                location=self.job.location,
                source="import",
            )
        if updates:
            fields: set[str] = set()
            products = []
            for product, changes in updates:
                for name, value in changes.items():
                    setattr(product, name, value)
                fields.update(name.removesuffix("_id") for name in changes)
                products.append(product)
            stock_services.update_products_with_stock(products=products, fields=sorted(fields))
