"""Rules of the catalogue: categories, products and their variations.

The catalogue knows no stock: quantities are written only by `stock.services`. Where one
request needs both (a product created with an opening quantity, a quantity edit, a variation
added, archiving, restoring), one service in `stock.services.catalogue` calls these in one
transaction with the stock's consequences, and the API and the admin call that one.

Concurrency: an edit re-reads and locks what it writes inside its transaction (never trusting
the instance the view read), products always in ONE id-ordered `lock_in_id_order` call, as the
ledger locks them, so catalogue edits and stock changes never deadlock. Django creates
PostgreSQL foreign keys DEFERRABLE INITIALLY DEFERRED, i.e. checked at COMMIT, where a
violation could only be a 500; the writes that make or break a reference therefore check them
at the statement (`core.db.foreign_keys_checked_at_once`), where the service answers 400 or 409.
"""

import dataclasses
import datetime
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core import audit
from core.bulk import insert_rows
from core.cache import figures_changed
from core.changes import UNSET, given
from core.db import (
    foreign_keys_checked_at_once,
    lock_all_in_id_order,
    lock_in_id_order,
    update_under_lock,
    write_columns,
)
from core.errors import BrokenRule, Conflict, NotFound
from core.events import emit, emit_many, money
from inventory.models import Category, Product
from inventory.selectors import live_variations_exist
from suppliers.models import Supplier

# Fields a client may change on a product; `quantity` goes through the ledger instead.
PRODUCT_FIELDS = (
    "track_lots",
    "barcode",
    "name",
    "description",
    "category",
    "supplier",
    "price",
    "cost_price",
    "low_stock_threshold",
    "expiration_date",
)
VARIATION_FIELDS = (
    "track_lots",
    "barcode",
    "name",
    "description",
    "price",
    "cost_price",
    "low_stock_threshold",
    "expiration_date",
    "attributes",
)
SKU_MAX_LENGTH = Product._meta.get_field("sku").max_length
# What the audit trail records of a product (API.md, Audit trail).
PRODUCT_AUDITED = ("sku", "name", "price", "cost_price", "low_stock_threshold")


def product_data(product: Product, **extra) -> dict:
    """A product in its events' `data`, money as the API writes it."""
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "parent": product.parent_id,
        "price": money(product.price),
        "low_stock_threshold": product.low_stock_threshold,
        "is_archived": product.is_archived,
        **extra,
    }


def _product_created(product: Product) -> None:
    """The event and the audit row of a new product, in its transaction."""
    emit(
        organization_id=product.organization_id, type="product.created", data=product_data(product)
    )
    audit.created(product, PRODUCT_AUDITED)


def _product_archived(product: Product, *, action: str) -> None:
    """The event and the audit row of a product archived, removed (a product without history:
    `product.archived` too, with `"removed": true`) or restored."""
    if action != audit.Action.RESTORE:
        emit(
            organization_id=product.organization_id,
            type="product.archived",
            data=product_data(product, is_archived=True, removed=action == audit.Action.DELETE),
        )
    audit.record(organization_id=product.organization_id, action=action, obj=product)


@dataclass(frozen=True)
class ProductFields:
    """A new product's catalogue fields, as a client gives them (its stock is the ledger's; a
    SKU is generated when none is given)."""

    name: str
    price: Decimal
    sku: str | None = None
    barcode: str | None = None
    description: str = ""
    category: Category | None = None
    supplier: Supplier | None = None
    cost_price: Decimal | None = None
    low_stock_threshold: int = 0
    track_lots: bool = False
    expiration_date: datetime.date | None = None


@dataclass(frozen=True)
class VariationFields:
    """A new variation's fields: its attributes, and what it does not take from its parent
    (name and price default to the parent's; category and supplier are always the parent's)."""

    attributes: dict = dataclasses.field(default_factory=dict)
    sku: str | None = None
    name: str | None = None
    price: Decimal | None = None
    barcode: str | None = None
    description: str = ""
    cost_price: Decimal | None = None
    low_stock_threshold: int = 0
    track_lots: bool = False
    expiration_date: datetime.date | None = None


@dataclass(frozen=True)
class ProductChanges:
    """An edit of a product's or a variation's catalogue fields: those left UNSET keep their
    value (a variation's category and supplier are its parent's; a product has no attributes)."""

    sku: str = UNSET
    barcode: str | None = UNSET
    name: str = UNSET
    description: str = UNSET
    category: Category | None = UNSET
    supplier: Supplier | None = UNSET
    price: Decimal = UNSET
    cost_price: Decimal | None = UNSET
    low_stock_threshold: int = UNSET
    track_lots: bool = UNSET
    expiration_date: datetime.date | None = UNSET
    attributes: dict = UNSET


def lock_family(
    products: Iterable[Product], *, parents: bool = True, variations: bool = True
) -> dict[int, Product]:
    """Lock the products with their parents (`parents`) and the variations of them all
    (`variations`) in ONE id-ordered `lock_in_id_order` call, as the ledger locks products:
    the lock set of every catalogue change (and of the low-stock watch around it,
    stock.services.catalogue). Returns the locked rows by id, as they are now.

    A variation added after the variations were listed was added under the parent's lock,
    before ours was granted: its id is the highest, so an UPDATE that locks it later keeps the
    id order.
    """
    products = list(products)
    ids = {product.pk for product in products}
    if parents:
        ids |= {product.parent_id for product in products if product.parent_id is not None}
    if variations:
        ids |= set(Product.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
    return lock_in_id_order(Product.objects, ids)


# --- Categories -----------------------------------------------------------------------------


def _category_name_taken(*, organization_id: int, name: str, exclude_pk=None) -> bool:
    return (
        Category.objects.filter(organization_id=organization_id, name__iexact=name)
        .exclude(pk=exclude_pk)
        .exists()
    )


def _save_category(category: Category, *, update_fields=None) -> Category:
    try:
        with transaction.atomic():
            category.save(update_fields=update_fields)
            figures_changed(category.organization_id)
    except IntegrityError:
        if _category_name_taken(
            organization_id=category.organization_id, name=category.name, exclude_pk=category.pk
        ):
            raise BrokenRule("A category with this name already exists.", field="name") from None
        raise
    return category


CATEGORY_AUDITED = ("name", "description")


def create_category(*, organization, name: str, description: str = "") -> Category:
    """Category names are unique within the organization, whatever their case."""
    with transaction.atomic():
        category = _save_category(
            Category(organization=organization, name=name, description=description)
        )
        audit.created(category, CATEGORY_AUDITED)
    return category


def update_category(*, category: Category, name=None, description=None) -> Category:
    """Rename or redescribe a category; names stay unique within the organization."""
    changes = {"name": name, "description": description}
    return update_under_lock(
        category,
        {field: value for field, value in changes.items() if value is not None},
        save=_save_category,
        gone="The category no longer exists.",
        audit=True,
    )


def delete_category(*, category: Category) -> None:
    """A category that still has products cannot be deleted (409); archived ones lose the link."""
    message = "The category still has products; move or delete them first."
    try:
        with transaction.atomic():
            if category.products.filter(is_archived=False).exists():
                raise Conflict(message)
            archived = category.products.filter(is_archived=True)
            lock_all_in_id_order(archived)  # as the ledger locks products
            archived.update(category=None, updated_at=timezone.now())
            # A product created in the category meanwhile makes the DELETE fail here (409).
            pk = category.pk
            with foreign_keys_checked_at_once():
                category.delete()
            audit.deleted(category, object_id=pk)
            figures_changed(category.organization_id)
    except (ProtectedError, IntegrityError):
        raise Conflict(message) from None


# --- Products -------------------------------------------------------------------------------


def _taken_by(product: Product, field: str) -> Product | None:
    """Another product of the organization with the same SKU or barcode, whatever the case
    (archived ones keep theirs)."""
    value = getattr(product, field)
    if not value:
        return None
    return (
        Product.objects.filter(
            organization_id=product.organization_id, **{f"{field}__iexact": value}
        )
        .exclude(pk=product.pk)
        .first()
    )


def _uniqueness_error(product: Product) -> BrokenRule | None:
    """The 400 for a SKU or barcode that another product holds, if that is what failed."""
    for field, noun in (("sku", "SKU"), ("barcode", "barcode")):
        other = _taken_by(product, field)
        if other is None:
            continue
        message = f"A product with this {noun} already exists ({other.sku})."
        if other.is_archived:
            message = (
                f"An archived product has this {noun} ({other.sku}, id {other.pk}): restore it "
                f"with POST /api/products/{other.pk}/restore/, or choose another {noun}."
            )
        return BrokenRule(message, field=field)
    return None


def _missing_reference(product: Product) -> BrokenRule | None:
    """The category or supplier the product refers to, if it was deleted meanwhile."""
    for field, model in (("category", Category), ("supplier", Supplier)):
        pk = getattr(product, f"{field}_id")
        if pk is not None and not model.objects.filter(pk=pk).exists():
            return BrokenRule(f'Invalid pk "{pk}" - object does not exist.', field=field)
    return None


def _assign_generated_sku(product: Product, *, base: str) -> None:
    """Give a freshly inserted product a readable SKU, unique even under concurrent creates."""
    candidates = [base, f"{base[: SKU_MAX_LENGTH - 9]}-{product.pk}"]
    candidates += [f"{base[: SKU_MAX_LENGTH - 9]}-{secrets.token_hex(4)}" for _ in range(5)]
    for candidate in candidates:
        try:
            with transaction.atomic():
                Product.objects.filter(pk=product.pk).update(sku=candidate)
        except IntegrityError:
            continue
        product.sku = candidate
        return
    raise BrokenRule("Could not generate a unique SKU; please give one.", field="sku")


def _insert_product(product: Product, *, sku: str | None, generated_base) -> Product:
    """Insert the product with its SKU, or a placeholder that is replaced by a generated one."""
    product.sku = sku or f"~{secrets.token_hex(16)}"
    product.quantity = 0
    try:
        with foreign_keys_checked_at_once():
            product.save(force_insert=True)
    except IntegrityError:
        if error := _uniqueness_error(product) or _missing_reference(product):
            raise error from None
        raise
    if not sku:
        _assign_generated_sku(product, base=generated_base(product))
    _product_created(product)
    figures_changed(product.organization_id)
    return product


def create_product(*, organization, fields: ProductFields) -> Product:
    """A new product, with no stock (its opening stock is the ledger's); a SKU is generated
    when none is given. A lot-tracked product's expiry comes from its lots."""
    if fields.track_lots and fields.expiration_date:
        raise BrokenRule(
            "A lot-tracked product's expiry is its lots': give it with the IN that names the lot.",
            field="expiration_date",
        )
    values = given(fields)
    sku = values.pop("sku")
    product = Product(organization=organization, **values)
    return _insert_product(product, sku=sku, generated_base=lambda p: f"SKU-{p.pk:06d}")


def _lock_with_relatives(
    product: Product, *, parent: bool = False, variations: bool = False
) -> dict[int, Product]:
    """Lock the product, with its parent or its variations when the edit writes or checks them
    (`lock_family`): 404 if it was deleted or archived meanwhile."""
    locked = lock_family([product], parents=parent, variations=variations)
    current = locked.get(product.pk)
    if current is None or current.is_archived:
        raise NotFound("The product no longer exists.")
    return locked


def _differs(product: Product, field: str, value) -> bool:
    if field in ("category", "supplier"):  # compare ids: no query for the related row
        return getattr(product, f"{field}_id") != getattr(value, "pk", None)
    return getattr(product, field) != value


def _ensure_lot_rules(product: Product, changes: dict) -> None:
    """Lot tracking switches only while the product holds no stock; a lot-tracked product's
    expiry is its earliest lot's, not an input."""
    if _differs(product, "track_lots", changes.get("track_lots", product.track_lots)):
        if product.quantity or product.allocated:
            raise BrokenRule(
                f"{product.sku} holds {product.quantity} in stock: lot tracking can be switched "
                "only while it holds none.",
                field="track_lots",
            )
        if changes["track_lots"]:
            changes["expiration_date"] = None
    elif product.track_lots and _differs(
        product, "expiration_date", changes.get("expiration_date", product.expiration_date)
    ):
        raise BrokenRule(
            f"{product.sku} tracks lots: its expiry is its lots' (PATCH /api/lots/{{id}}/).",
            field="expiration_date",
        )


def _save_fields(product: Product, changes: dict, allowed: tuple[str, ...]) -> list[str]:
    """Write the changed catalogue fields of a locked product only: never `quantity`, which the
    ledger owns. Returns the fields that changed."""
    _ensure_lot_rules(product, changes)
    fields = [
        field for field in allowed if field in changes and _differs(product, field, changes[field])
    ]
    before = audit.snapshot(product, PRODUCT_AUDITED)
    for field in fields:
        setattr(product, field, changes[field])
    if changes.get("sku") and changes["sku"] != product.sku:
        product.sku = changes["sku"]
        fields.append("sku")
    if fields:
        try:
            with foreign_keys_checked_at_once():
                product.save(update_fields=[*fields, "updated_at"])
        except IntegrityError:
            if error := _uniqueness_error(product) or _missing_reference(product):
                raise error from None
            raise
        emit(
            organization_id=product.organization_id,
            type="product.updated",
            data=product_data(product, changed=sorted(fields)),
        )
        audit.record(
            organization_id=product.organization_id,
            action=audit.Action.UPDATE,
            obj=product,
            changes=audit.diff(before, audit.snapshot(product, PRODUCT_AUDITED)),
        )
        figures_changed(product.organization_id)
    return fields


def update_product(*, product: Product, changes: ProductChanges) -> Product:
    """Edit a product's catalogue fields (its quantity is the ledger's); a parent's new
    category or supplier is its variations' too."""
    changes = given(changes)
    with transaction.atomic():
        variations = bool({"category", "supplier"} & changes.keys())
        product = _lock_with_relatives(product, variations=variations)[product.pk]
        if product.parent_id is not None:
            for field in ("category", "supplier"):
                if field in changes and _differs(product, field, changes[field]):
                    raise BrokenRule(
                        f"A variation's {field} is its parent's; change the parent.", field=field
                    )
        fields = _save_fields(product, changes, PRODUCT_FIELDS)
        if product.has_variations and {"category", "supplier"} & set(fields):
            # A variation's category and supplier are its parent's.
            product.variations.update(
                category_id=product.category_id,
                supplier_id=product.supplier_id,
                updated_at=timezone.now(),
            )
    return product


def _remove_or_archive(product: Product, *, now) -> None:
    """Remove a product without history; archive one with history (movements, order lines),
    including history committed by a concurrent request after Django looked for it."""
    pk = product.pk
    try:
        with foreign_keys_checked_at_once():
            product.delete()
    except (ProtectedError, IntegrityError):
        Product.objects.filter(pk=pk).update(is_archived=True, archived_at=now, updated_at=now)
        product.is_archived = True
        _product_archived(product, action=audit.Action.ARCHIVE)
    else:
        product.pk = pk  # the event and the trail name what was removed
        _product_archived(product, action=audit.Action.DELETE)


def delete_product(*, product: Product) -> None:
    """A product with stock history is archived, one without is removed; variations go with it.
    One that still holds stock is a 409: the ledger must say where the stock went."""
    with transaction.atomic():
        locked = _lock_with_relatives(product, parent=True, variations=True)
        product = locked[product.pk]
        variations = [p for p in locked.values() if p.parent_id == product.pk and not p.is_archived]
        for held in [product, *variations]:
            if held.quantity:
                raise Conflict(
                    f"Product {held.sku} still holds {held.quantity} in stock; write it off with "
                    "a stock movement first, so that the ledger says where it went."
                )
        now = timezone.now()
        for variation in variations:
            _remove_or_archive(variation, now=now)
        _remove_or_archive(product, now=now)
        figures_changed(product.organization_id)
        if product.parent_id is not None:
            Product.objects.filter(pk=product.parent_id).update(
                has_variations=live_variations_exist(), updated_at=timezone.now()
            )


def restore_product(*, product: Product) -> Product:
    """Bring an archived product back, with the variations that were archived with it."""
    with transaction.atomic():
        locked = lock_family([product])
        current = locked.get(product.pk)
        if current is None or not current.is_archived:
            raise NotFound("No archived product matches the given query.")
        parent = locked.get(current.parent_id)
        if parent is not None and parent.is_archived:
            raise Conflict(f"Its product {parent.sku} is archived: restore that one.")
        if parent is not None and parent.quantity:
            raise Conflict(
                f"Its product {parent.sku} holds {parent.quantity} in stock now; a product with "
                "variations holds none itself."
            )
        now = timezone.now()
        together = [
            p.pk
            for p in locked.values()
            if p.parent_id == current.pk and p.is_archived and p.archived_at == current.archived_at
        ]
        Product.objects.filter(pk__in=[current.pk, *together]).update(
            is_archived=False, archived_at=None, updated_at=now
        )
        for restored in [current, *(locked[pk] for pk in together)]:
            restored.is_archived = False
            _product_archived(restored, action=audit.Action.RESTORE)
        for pk in (current.pk, current.parent_id):
            if pk is not None:
                Product.objects.filter(pk=pk).update(has_variations=live_variations_exist())
        figures_changed(current.organization_id)
    return current


# --- Variations -----------------------------------------------------------------------------


def _variation_sku_base(parent: Product, attributes: dict) -> str:
    suffix = "-".join(str(value).strip().upper().replace(" ", "-") for value in attributes.values())
    return f"{parent.sku}-{suffix}"[:SKU_MAX_LENGTH] if suffix else f"{parent.sku}-V"


def _canonical(attributes: dict) -> dict:
    """Attributes stored with their names in order, so that equal ones compare equal in SQL on
    every database (PostgreSQL's jsonb orders them anyway)."""
    return dict(sorted(attributes.items()))


def _ensure_unique_attributes(*, parent_id: int, attributes: dict, exclude_pk=None) -> None:
    """Checked under the parent's lock, which every writer of its variations takes."""
    taken = (
        Product.objects.filter(parent_id=parent_id, is_archived=False, attributes=attributes)
        .exclude(pk=exclude_pk)
        .exists()
    )
    if taken:
        raise BrokenRule(
            "The product already has a variation with these attributes.", field="attributes"
        )


def add_variation(*, parent: Product, fields: VariationFields) -> Product:
    """A variation is a stock-keeping product of its own (with no stock yet); its parent must
    hold no stock."""
    values = given(fields)
    attributes, sku = values.pop("attributes"), values.pop("sku")
    name, price = values.pop("name"), values.pop("price")
    with transaction.atomic():
        parent = lock_in_id_order(Product.objects, [parent.pk]).get(parent.pk)
        if parent is None or parent.is_archived:
            raise NotFound("The product no longer exists.")
        if parent.parent_id is not None:
            raise BrokenRule("A variation cannot have variations of its own.")
        if parent.quantity:
            raise BrokenRule(
                f"Product {parent.sku} still holds {parent.quantity} in stock; "
                "bring its stock to zero before adding variations."
            )
        _ensure_unique_attributes(parent_id=parent.pk, attributes=_canonical(attributes))
        variation = Product(
            organization_id=parent.organization_id,
            parent=parent,
            attributes=_canonical(attributes),
            name=name or " ".join([parent.name, *map(str, attributes.values())])[:255],
            price=parent.price if price is None else price,
            category_id=parent.category_id,
            supplier_id=parent.supplier_id,
            **values,
        )
        _insert_product(
            variation, sku=sku, generated_base=lambda _: _variation_sku_base(parent, attributes)
        )
        if not parent.has_variations:
            Product.objects.filter(pk=parent.pk).update(
                has_variations=True, updated_at=timezone.now()
            )
    return variation


def update_variation(*, variation: Product, changes: ProductChanges) -> Product:
    """Edit a variation's catalogue fields (its quantity is the ledger's)."""
    changes = given(changes)
    with transaction.atomic():
        # New attributes are checked against the siblings' under the parent's lock.
        parent = "attributes" in changes
        variation = _lock_with_relatives(variation, parent=parent)[variation.pk]
        if "attributes" in changes:
            changes["attributes"] = _canonical(changes["attributes"])
            _ensure_unique_attributes(
                parent_id=variation.parent_id,
                attributes=changes["attributes"],
                exclude_pk=variation.pk,
            )
        _save_fields(variation, changes, VARIATION_FIELDS)
    return variation


# --- Many products at once (imports) ---------------------------------------------------------

BULK_BATCH_SIZE = 1000


def new_products(*, organization, fields: list[ProductFields]) -> list[Product]:
    """Many new products (an import), checked as `create_product` checks them, not written
    yet (`insert_products` writes them): each with its SKU given, no stock (its opening stock
    is the ledger's), its average cost starting at its cost price."""
    products = []
    for each in fields:
        if not each.sku:
            raise BrokenRule("Every product created in bulk needs its SKU.", field="sku")
        if each.track_lots and each.expiration_date:
            raise BrokenRule(
                f"{each.sku}: a lot-tracked product's expiry is its lots'.",
                field="expiration_date",
            )
        product = Product(organization=organization, **given(each))
        product.quantity = 0
        product.average_cost = each.cost_price or Decimal(0)
        products.append(product)
    return products


def insert_products(*, organization, products: list[Product]) -> list[Product]:
    """Write new products (`new_products`', with the opening stock the books have given them
    when they were numbered first: `stock.services.create_products_with_stock`) in a few
    statements (core.bulk.insert_rows: COPY on PostgreSQL), with their events and audit rows. A
    SKU or barcode taken meanwhile by another request is a BrokenRule (400) and nothing is
    created."""
    if not products:
        return []
    try:
        with foreign_keys_checked_at_once():
            insert_rows(products, batch_size=BULK_BATCH_SIZE)
    except IntegrityError:
        raise BrokenRule(
            "Another request created a product with one of these SKUs or barcodes meanwhile; "
            "run it again.",
            field="sku",
        ) from None
    emit_many((organization.pk, "product.created", product_data(p)) for p in products)
    audit.record_many(
        organization_id=organization.pk,
        action=audit.Action.CREATE,
        rows=[(p, audit.diff({}, audit.snapshot(p, PRODUCT_AUDITED))) for p in products],
    )
    figures_changed(organization.pk)
    return products


def update_products(*, products: list[Product], fields: list[str]) -> None:
    """Write these catalogue fields of many products at once (an import): the products are
    locked by the caller (with their variations, id order) and hold their new values, checked
    as `update_product` checks them. Never `quantity`, which the ledger owns; a parent's new
    category or supplier is its variations' too."""
    if not products:
        return
    fields = [field for field in fields if field in PRODUCT_FIELDS]
    audited = [field for field in PRODUCT_AUDITED if field in fields]
    before = {  # as stored (the rows are locked, not written yet): the trail's old values
        row["pk"]: {name: audit.value(row[name]) for name in audited}
        for row in Product.objects.filter(pk__in=[p.pk for p in products]).values("pk", *audited)
    }
    now = timezone.now()
    for product in products:
        product.updated_at = now
    try:
        with foreign_keys_checked_at_once():
            write_columns(products, [*fields, "updated_at"])
    except IntegrityError:
        raise BrokenRule(
            "Another request took one of these barcodes meanwhile; run it again.",
            field="barcode",
        ) from None
    emit_many(
        (p.organization_id, "product.updated", product_data(p, changed=sorted(fields)))
        for p in products
    )
    audit.record_many(
        organization_id=products[0].organization_id,
        action=audit.Action.UPDATE,
        rows=[(p, audit.diff(before[p.pk], audit.snapshot(p, audited))) for p in products],
    )
    parents = [p for p in products if p.has_variations]
    if parents and {"category", "supplier"} & set(fields):
        for parent in parents:
            Product.objects.filter(parent_id=parent.pk).exclude(
                category_id=parent.category_id, supplier_id=parent.supplier_id
            ).update(category_id=parent.category_id, supplier_id=parent.supplier_id, updated_at=now)
    figures_changed(products[0].organization_id)
