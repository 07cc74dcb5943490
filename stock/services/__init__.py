"""The ONE place that changes stock: product totals, levels (product × location × lot), lots,
reservations and average costs (DESIGN.md, rule 2). One module per concept:

- `books`: the engine: one transaction's work on locked products (levels, lots, FEFO
  picking); every change of a quantity records its own movement;
- `movements`: one movement at a time (manual, opening stock, a quantity set from an edit);
- `lines`: order lines in or out, all or none (receipts, fulfilment, returns);
- `reservations`: stock promised to confirmed orders, released or taken out;
- `transfers`: stock moved between locations;
- `valuation`: the moving-average cost;
- `locations`: locations and lots;
- `catalogue`: catalogue changes with stock consequences;
- `outbox`: what stock writes to core's event outbox (movements, threshold crossings);
- `locks`: the first lock of every change (products in id order);
- `counts`: a stocktake's counted differences, applied to the stock there now (`Books.adjust`:
  one ADJUST each, under the product locks);
- `errors`: stock's refusals.

Callers import from the package (`from stock.services import record_movement`); the modules
import each other, never the package, so there is no import cycle.

What comes next has its place: an import creates
products with their opening stock through `catalogue`; events and audit rows are written
where each change is made, in its transaction (`Books.close` for every movement, `outbox` for
threshold crossings, `catalogue` for product changes).
"""

from stock.services.books import Books, Entry, ensure_stock_keeping
from stock.services.catalogue import (
    add_variation_with_stock,
    create_product_with_stock,
    create_products_with_stock,
    delete_product_with_stock,
    restore_product_with_stock,
    update_product_with_stock,
    update_products_with_stock,
    update_variation_with_stock,
)
from stock.services.counts import (
    CountedDifference,
    apply_counted_differences,
    variance_value,
)
from stock.services.errors import (
    InsufficientStock,
    InvalidStockChange,
    NotStockKeeping,
    Shortage,
)
from stock.services.lines import StockLine, add_to_stock, return_to_stock, take_out_of_stock
from stock.services.locations import (
    DEFAULT_LOCATION_NAME,
    create_location,
    default_location,
    delete_location,
    update_location,
    update_lot,
)
from stock.services.locks import lock_products
from stock.services.movements import (
    record_initial_stock,
    record_movement,
    record_opening_stock,
    set_stock_level,
)
from stock.services.outbox import low_stock_states, record_low_stock_changes
from stock.services.reservations import (
    Held,
    ReservedLine,
    release_stock,
    reserve_stock,
    take_reserved_stock,
)
from stock.services.transfers import transfer_stock
from stock.services.valuation import moving_average

__all__ = [
    "DEFAULT_LOCATION_NAME",
    "Books",
    "CountedDifference",
    "Entry",
    "Held",
    "InsufficientStock",
    "InvalidStockChange",
    "NotStockKeeping",
    "ReservedLine",
    "Shortage",
    "StockLine",
    "add_to_stock",
    "add_variation_with_stock",
    "apply_counted_differences",
    "create_location",
    "create_product_with_stock",
    "create_products_with_stock",
    "default_location",
    "delete_location",
    "delete_product_with_stock",
    "ensure_stock_keeping",
    "lock_products",
    "low_stock_states",
    "moving_average",
    "record_initial_stock",
    "record_low_stock_changes",
    "record_movement",
    "record_opening_stock",
    "release_stock",
    "reserve_stock",
    "restore_product_with_stock",
    "return_to_stock",
    "set_stock_level",
    "take_out_of_stock",
    "take_reserved_stock",
    "transfer_stock",
    "update_location",
    "update_lot",
    "update_product_with_stock",
    "update_products_with_stock",
    "update_variation_with_stock",
    "variance_value",
]
