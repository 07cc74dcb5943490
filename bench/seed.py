"""Seed helpers for benchmarks: many products in one organization, with their ledger."""

from decimal import Decimal

from django.db import transaction

from inventory.models import Category, Product
from stock.models import StockLevel, StockMovement
from stock.services import default_location
from users.models import Organization, Role, User

BATCH = 5000


def make_organization(name: str = "Bench Shop") -> tuple[Organization, User]:
    """An organization with an admin user."""
    from django.contrib.auth.models import Group

    organization = Organization.objects.create(name=name)
    user = User.objects.create_user(
        username=f"bench-{organization.pk}",
        password="bench-password-123",
        organization=organization,
    )
    user.groups.add(Group.objects.get(name=Role.ADMIN))
    return organization, user


def seed_products(*, organization: Organization, count: int, category: Category | None = None):
    """Insert `count` products with an opening quantity at the default location: its level
    and its `initial` movement each.

    Bulk inserts bypass stock.services for speed but keep its invariants: quantity ==
    sum(delta) == the sum of its levels, for every product and location.
    """
    start = Product.objects.filter(organization=organization).count()
    location = default_location(organization_id=organization.pk)
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        with transaction.atomic():
            products = Product.objects.bulk_create(
                Product(
                    organization=organization,
                    category=category,
                    sku=f"B{organization.pk}-{start + made + i:08d}",
                    name=f"Bench product {start + made + i:08d}",
                    description='=formula, "quoted" and plain text' if i % 97 == 0 else "",
                    price=Decimal(f"{(made + i) % 1000}.{i % 100:02d}"),
                    quantity=(made + i) % 50 + 1,
                    low_stock_threshold=5,
                )
                for i in range(size)
            )
            StockLevel.objects.bulk_create(
                StockLevel(
                    organization=organization,
                    product=product,
                    location=location,
                    quantity=product.quantity,
                )
                for product in products
            )
            StockMovement.objects.bulk_create(
                StockMovement(
                    organization=organization,
                    product=product,
                    location=location,
                    movement_type=StockMovement.MovementType.IN,
                    quantity=product.quantity,
                    delta=product.quantity,
                    balance_after=product.quantity,
                    source=StockMovement.Source.INITIAL,
                )
                for product in products
            )
        made += size
    return made
