"""What a sales rep may do to an order (API.md, Sales orders, Roles)."""

from rest_framework import permissions

from users.permissions import is_sales_rep

NOT_YOURS = "A sales rep edits, deletes and cancels only the orders they created."
OWN_PRICE = "A sales rep sells at the product's price; only admins and managers set another."
PENDING_ONLY = (
    "A sales rep cancels only pending orders; an admin or manager cancels a confirmed one."
)
MOVES_FOR_EVERY_REP = {"confirmed", "fulfilled"}


class SalesRepLimits(permissions.BasePermission):
    """Any sales rep may confirm or fulfil an order (and record its returns); editing,
    cancelling and deleting are for the rep who created it."""

    message = NOT_YOURS

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS or not is_sales_rep(request):
            return True
        if obj.created_by_id == request.user.pk:  # their own: cancelled only while pending
            data = request.data if isinstance(request.data, dict) else {}
            if (
                view.action == "partial_update"
                and data.get("status") == "cancelled"
                and obj.status == "confirmed"
            ):
                self.message = PENDING_ONLY
                return False
            return True
        if view.action == "partial_update":  # another rep's order: only confirm or fulfil it
            data = request.data if isinstance(request.data, dict) else {}
            return set(data) <= {"status"} and data.get("status") in MOVES_FOR_EVERY_REP
        return view.action != "destroy"  # recording a return is for every rep


def sets_own_prices(items: list[dict]) -> bool:
    """Whether any line asks for a price other than its product's."""
    return any(
        item.get("unit_price") is not None and item["unit_price"] != item["product"].price
        for item in items
    )
