"""Rules of the catalogue: categories, products and their variations.

Quantities are never written here: opening stock and stock edits go through `stock.services`,
which appends the ledger movement in the same transaction.
"""

import secrets

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from config.errors import Conflict, DomainError
from inventory.models import Category, Product
from inventory.selectors import live_variations_exist
from stock import services as stock_services

# Fields a client may change on a product; `quantity` goes through the ledger instead.
PRODUCT_FIELDS = (
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
    "name",
    "description",
    "price",
    "cost_price",
    "low_stock_threshold",
    "expiration_date",
    "attributes",
)
SKU_MAX_LENGTH = Product._meta.get_field("sku").max_length


# --- Categories -----------------------------------------------------------------------------


def _category_name_taken(*, organization_id: int, name: str, exclude_pk=None) -> bool:
    return (
        Category.objects.filter(organization_id=organization_id, name__iexact=name)
        .exclude(pk=exclude_pk)
        .exists()
    )


def _save_category(category: Category) -> Category:
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        if _category_name_taken(
            organization_id=category.organization_id, name=category.name, exclude_pk=category.pk
        ):
            raise DomainError("A category with this name already exists.", field="name") from None
        raise
    return category


def create_category(*, organization, name: str, description: str = "") -> Category:
    """Category names are unique within the organization, whatever their case."""
    return _save_category(Category(organization=organization, name=name, description=description))


def update_category(*, category: Category, **changes) -> Category:
    """Rename or redescribe a category; names stay unique within the organization."""
    for field, value in changes.items():
        setattr(category, field, value)
    return _save_category(category)


def delete_category(*, category: Category) -> None:
    """A category that still has products cannot be deleted (409); archived ones lose the link."""
    message = "The category still has products; move or delete them first."
    try:
        with transaction.atomic():
            if category.products.filter(is_archived=False).exists():
                raise Conflict(message)
            category.products.filter(is_archived=True).update(category=None)
            category.delete()
    except ProtectedError:  # a product was added meanwhile
        raise Conflict(message) from None


# --- Products -------------------------------------------------------------------------------


def _sku_taken(*, organization_id: int, sku: str, exclude_pk=None) -> bool:
    return (
        Product.objects.filter(organization_id=organization_id, sku=sku)
        .exclude(pk=exclude_pk)
        .exists()
    )


def _sku_error() -> DomainError:
    return DomainError("A product with this SKU already exists.", field="sku")


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
    raise DomainError("Could not generate a unique SKU; please give one.", field="sku")


def _insert_product(product: Product, *, sku: str | None, generated_base) -> Product:
    """Insert the product with its SKU, or a placeholder that is replaced by a generated one."""
    product.sku = sku or f"~{secrets.token_hex(16)}"
    product.quantity = 0
    try:
        with transaction.atomic():
            product.save(force_insert=True)
    except IntegrityError:
        if sku and _sku_taken(organization_id=product.organization_id, sku=sku):
            raise _sku_error() from None
        raise
    if not sku:
        _assign_generated_sku(product, base=generated_base(product))
    return product


def create_product(*, organization, user, sku: str | None = None, quantity: int = 0, **fields):
    """A new product; a non-zero opening quantity is one IN movement (`initial`), all at once."""
    with transaction.atomic():
        product = Product(organization=organization, **fields)
        _insert_product(product, sku=sku, generated_base=lambda p: f"SKU-{p.pk:06d}")
        stock_services.record_initial_stock(product=product, quantity=quantity, user=user)
    return product


def _ensure_holds_no_stock(product: Product, quantity: int | None) -> None:
    if quantity and product.has_variations:
        raise DomainError(
            f"Product {product.sku} has variations and holds no stock itself; "
            "set the quantity of its variations.",
            field="quantity",
        )


def _save_fields(product: Product, changes: dict, allowed: tuple[str, ...]) -> list[str]:
    """Write the changed catalogue fields only: never `quantity`, which the ledger owns."""
    fields = [field for field in allowed if field in changes]
    for field in fields:
        setattr(product, field, changes[field])
    if "sku" in changes and changes["sku"] and changes["sku"] != product.sku:
        product.sku = changes["sku"]
        fields.append("sku")
    if fields:
        product.updated_at = timezone.now()
        update_fields = [("category_id" if f == "category" else f) for f in fields]
        update_fields = [("supplier_id" if f == "supplier" else f) for f in update_fields]
        try:
            with transaction.atomic():
                product.save(update_fields=[*update_fields, "updated_at"])
        except IntegrityError:
            if "sku" in fields and _sku_taken(
                organization_id=product.organization_id, sku=product.sku, exclude_pk=product.pk
            ):
                raise _sku_error() from None
            raise
    return fields


def update_product(*, product: Product, user, quantity: int | None = None, **changes) -> Product:
    """Edit a product; a changed quantity is one ADJUST movement (`product_edit`)."""
    with transaction.atomic():
        product = stock_services.lock_products([product.pk])[product.pk]
        _ensure_holds_no_stock(product, quantity)
        if product.parent_id is not None:
            for field in ("category", "supplier"):
                if field in changes and changes[field] != getattr(product, field):
                    raise DomainError(
                        f"A variation's {field} is its parent's; change the parent.", field=field
                    )
        fields = _save_fields(product, changes, PRODUCT_FIELDS)
        if product.has_variations and {"category", "supplier"} & set(fields):
            # A variation's category and supplier are its parent's.
            product.variations.update(
                category=product.category, supplier=product.supplier, updated_at=timezone.now()
            )
        if quantity is not None:
            stock_services.set_stock_level(product=product, quantity=quantity, user=user)
    return product


def _remove_or_archive(product: Product) -> None:
    """Remove a product without history; archive one with history (movements, order lines)."""
    try:
        with transaction.atomic():
            product.delete()
    except ProtectedError:
        Product.objects.filter(pk=product.pk).update(is_archived=True, updated_at=timezone.now())


def delete_product(*, product: Product) -> None:
    """A product with stock history is archived, one without is removed; variations go with it."""
    with transaction.atomic():
        product = stock_services.lock_products([product.pk])[product.pk]
        for variation in product.variations.filter(is_archived=False).order_by("pk"):
            _remove_or_archive(variation)
        _remove_or_archive(product)
        if product.parent_id is not None:
            Product.objects.filter(pk=product.parent_id).update(
                has_variations=live_variations_exist()
            )


# --- Variations -----------------------------------------------------------------------------


def _variation_sku_base(parent: Product, attributes: dict) -> str:
    suffix = "-".join(str(value).strip().upper().replace(" ", "-") for value in attributes.values())
    return f"{parent.sku}-{suffix}"[:SKU_MAX_LENGTH] if suffix else f"{parent.sku}-V"


def _ensure_unique_attributes(*, parent: Product, attributes: dict, exclude_pk=None) -> None:
    siblings = parent.variations.filter(is_archived=False).exclude(pk=exclude_pk)
    if any(sibling == attributes for sibling in siblings.values_list("attributes", flat=True)):
        raise DomainError(
            "The product already has a variation with these attributes.", field="attributes"
        )


def add_variation(
    *,
    parent: Product,
    user,
    attributes: dict,
    sku: str | None = None,
    name: str | None = None,
    price=None,
    quantity: int = 0,
    **fields,
) -> Product:
    """A variation is a stock-keeping product of its own; its parent must hold no stock."""
    with transaction.atomic():
        parent = stock_services.lock_products([parent.pk])[parent.pk]
        if parent.parent_id is not None:
            raise DomainError("A variation cannot have variations of its own.")
        if parent.quantity:
            raise DomainError(
                f"Product {parent.sku} still holds {parent.quantity} in stock; "
                "bring its stock to zero before adding variations."
            )
        _ensure_unique_attributes(parent=parent, attributes=attributes)
        variation = Product(
            organization_id=parent.organization_id,
            parent=parent,
            attributes=attributes,
            name=name or " ".join([parent.name, *map(str, attributes.values())])[:255],
            price=parent.price if price is None else price,
            category_id=parent.category_id,
            supplier_id=parent.supplier_id,
            **fields,
        )
        _insert_product(
            variation, sku=sku, generated_base=lambda _: _variation_sku_base(parent, attributes)
        )
        if not parent.has_variations:
            Product.objects.filter(pk=parent.pk).update(
                has_variations=True, updated_at=timezone.now()
            )
        stock_services.record_initial_stock(product=variation, quantity=quantity, user=user)
    return variation


def update_variation(
    *, variation: Product, user, quantity: int | None = None, **changes
) -> Product:
    """Edit a variation; a changed quantity is one ADJUST movement (`product_edit`)."""
    with transaction.atomic():
        variation = stock_services.lock_products([variation.pk])[variation.pk]
        if "attributes" in changes:
            _ensure_unique_attributes(
                parent=variation.parent,
                attributes=changes["attributes"],
                exclude_pk=variation.pk,
            )
        _save_fields(variation, changes, VARIATION_FIELDS)
        if quantity is not None:
            stock_services.set_stock_level(product=variation, quantity=quantity, user=user)
    return variation
