"""Stock's refusals: domain errors (core.errors) that carry what a client needs to know."""

from dataclasses import dataclass

from core.errors import BrokenRule
from inventory.models import Product


@dataclass(frozen=True)
class Shortage:
    line: int  # position in the lines passed in (0-based)
    product_id: int
    sku: str
    requested: int
    available: int
    expired: int = 0  # units there that are expired: never picked by the server

    def __str__(self):
        return f"Line {self.line + 1} ({self.sku}): {self.numbers()}"

    def figures(self) -> str:
        return f"{self.sku}: {self.numbers()}"

    def numbers(self) -> str:
        text = f"{self.requested} requested, {self.available} available."
        if self.expired:
            text += f" {self.expired} more are there but expired."
        return text


class InsufficientStock(BrokenRule):
    """Taking the lines out would take more than is available; nothing was changed (400). An
    order's shortages name their lines; a single movement's only the product."""

    def __init__(self, shortages: list[Shortage], *, field: str | None = None, lines=True):
        self.shortages = shortages
        self.messages = [str(s) if lines else s.figures() for s in shortages]
        super().__init__("Insufficient stock: " + " ".join(self.messages), field=field)

    def as_data(self):
        return {self.field or "non_field_errors": self.messages}


class NotStockKeeping(BrokenRule):
    """The product has variations: its stock is kept by them (400)."""

    def __init__(self, product: Product, *, field: str = "product"):
        skus = list(
            product.variations.filter(is_archived=False)
            .order_by("sku")
            .values_list("sku", flat=True)[:20]
        )
        names = ", ".join(skus) if skus else "none"
        super().__init__(
            f"Product {product.sku} has variations and holds no stock itself; "
            f"use one of its variations: {names}.",
            field=field,
        )


class InvalidStockChange(BrokenRule):
    """A change the ledger cannot record (a bad quantity, a lot where none is kept, ...)."""
