"""Catalogue changes with stock consequences: the ONE way the API, the admin and every other
entry point change the catalogue where stock is concerned (DESIGN.md: the catalogue knows no
stock, and where one request needs both, one service in `stock` does it).

Each opens the transaction, locks the product with its parent and variations (the catalogue's
`lock_family`, in id order, as every stock change locks them), watches their low-stock state
around the catalogue's own service (a threshold edit, variations added or removed, archiving
and restoring flip it: the outbox hears), then records what the change means for the ledger
(opening stock, a quantity set by an edit). Bulk imports of products with opening stock belong
here too.
"""

from collections.abc import Iterable
from contextlib import contextmanager

from django.db import connection, transaction

from core.bulk import reserve_ids
from inventory import services as catalogue
from inventory.models import Product
from inventory.services import ProductChanges, ProductFields, VariationFields
from stock.models import Location
from stock.services.movements import opening_stock, record_initial_stock, set_stock_level
from stock.services.outbox import low_stock_states, record_low_stock_changes
from users.models import User


@contextmanager
def _low_stock_watched(products: Iterable[Product]):
    """Lock the products with their parents and variations (id order), then, after the change
    inside, record in the outbox every one of them whose low-stock state it flipped."""
    was_low = low_stock_states(catalogue.lock_family(products).values())
    yield
    record_low_stock_changes(was_low=was_low, products=Product.objects.filter(pk__in=was_low))


def create_product_with_stock(
    *, organization, fields: ProductFields, quantity: int = 0, user: User | None
) -> Product:
    """A new product with its opening quantity: one IN movement (`initial`) at the default
    location, valued at its cost price (stock.services.movements.record_initial_stock), or
    nothing changes."""
    with transaction.atomic():
        product = catalogue.create_product(organization=organization, fields=fields)
        record_initial_stock(product=product, quantity=quantity, user=user)
    return product


def update_product_with_stock(
    *, product: Product, changes: ProductChanges, quantity: int | None = None, user: User | None
) -> Product:
    """Edit a product's catalogue fields (a threshold edit can be a crossing), then set its
    quantity when given (one ADJUST movement when it changed), all or nothing."""
    with transaction.atomic():
        with _low_stock_watched([product]):
            product = catalogue.update_product(product=product, changes=changes)
        _set_quantity(product, quantity, user)
    return product


def update_variation_with_stock(
    *, variation: Product, changes: ProductChanges, quantity: int | None = None, user: User | None
) -> Product:
    """Edit a variation's catalogue fields, then set its quantity when given, as a product's."""
    with transaction.atomic():
        with _low_stock_watched([variation]):
            variation = catalogue.update_variation(variation=variation, changes=changes)
        _set_quantity(variation, quantity, user)
    return variation


def add_variation_with_stock(
    *, parent: Product, fields: VariationFields, quantity: int = 0, user: User | None
) -> Product:
    """A new variation with its opening quantity; its parent, holding no stock now, is low no
    more."""
    with transaction.atomic():
        with _low_stock_watched([parent]):
            variation = catalogue.add_variation(parent=parent, fields=fields)
        record_initial_stock(product=variation, quantity=quantity, user=user)
    return variation


def delete_product_with_stock(*, product: Product) -> None:
    """Archive a product with history, remove one without (the catalogue's rule): it is low no
    more, and a parent that keeps no variations any more holds stock again."""
    with transaction.atomic(), _low_stock_watched([product]):
        catalogue.delete_product(product=product)


def restore_product_with_stock(*, product: Product) -> Product:
    """Bring an archived product back (with the variations archived with it): one at or below
    its threshold is low again, a crossing the outbox hears."""
    with transaction.atomic(), _low_stock_watched([product]):
        return catalogue.restore_product(product=product)


def create_products_with_stock(
    *,
    organization,
    products: list[tuple[ProductFields, int]],
    user: User | None,
    location: Location | None = None,
    source: str = "import",
) -> list[Product]:
    """Many new products with their opening quantities (an import), all or nothing: one IN
    each (`source`) at the location, valued at its cost price (`opening_stock`), and each
    product row written once: on PostgreSQL the products are numbered first (ids reserved),
    their books put their stock, then they are written (COPY) with the quantity and average
    cost the books gave them, then the books write the levels and movements. Elsewhere the
    products are written first, and the books write their stock onto them."""
    with transaction.atomic():
        created = catalogue.new_products(
            organization=organization, fields=[fields for fields, _ in products]
        )
        stock = list(zip(created, [quantity for _, quantity in products], strict=True))
        numbered_first = connection.vendor == "postgresql" and bool(created)
        if numbered_first:
            for product, pk in zip(created, reserve_ids(Product, len(created)), strict=True):
                product.pk = pk
        else:
            catalogue.insert_products(organization=organization, products=created)
        books = opening_stock(
            stock=stock, user=user, location=location, source=source, unwritten=numbered_first
        )
        if numbered_first:
            catalogue.insert_products(organization=organization, products=created)
        books.close()
    return created


def update_products_with_stock(*, products: list[Product], fields: list[str]) -> None:
    """Write the catalogue fields of many locked products at once (an import: the caller locked
    them with their variations, id order, and set their new values): a threshold edit that
    makes one low, or no longer low, is a crossing the outbox records."""
    if not products:
        return
    with transaction.atomic():
        was_low = low_stock_states(
            Product.objects.filter(pk__in=[product.pk for product in products]).only(
                "quantity", "allocated", "low_stock_threshold", "has_variations", "is_archived"
            )
        )
        catalogue.update_products(products=products, fields=fields)
        record_low_stock_changes(was_low=was_low, products=products)


def _set_quantity(product: Product, quantity: int | None, user: User | None) -> None:
    if quantity is not None:
        set_stock_level(product=product, quantity=quantity, user=user)
