"""Rules of stock.services, the one writer of Product.quantity, and the ledger reconciliation."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError

from core.cache import _move_on
from core.events import events_committed
from core.models import Event
from inventory.models import Product
from stock import services
from stock.models import StockMovement
from stock.selectors import ledger_mismatches
from stock.services import books
from stock.tasks import reconcile_stock_ledger
from tests.factories import ProductFactory

Line = services.StockLine


def quantities(*products):
    return [Product.objects.get(pk=p.pk).quantity for p in products]


@pytest.fixture
def two(stocked, organization):
    return stocked(quantity=5, organization=organization), stocked(
        quantity=2, organization=organization
    )


@pytest.mark.django_db
class TestTakeOutOfStock:
    def test_all_lines_leave_with_one_out_movement_each(self, two, admin_user):
        a, b = two
        movements = services.take_out_of_stock(
            lines=[Line(a.pk, 3), Line(b.pk, 2)],
            source="sales_order",
            reference="SO-00001",
            user=admin_user,
        )
        assert [(m.delta, m.balance_after, m.reference) for m in movements] == [
            (-3, 2, "SO-00001"),
            (-2, 0, "SO-00001"),
        ]
        assert quantities(a, b) == [2, 0]

    def test_one_short_line_changes_nothing_and_names_the_lines(self, two, admin_user):
        a, b = two
        before = StockMovement.objects.count()
        with pytest.raises(services.InsufficientStock) as error:
            services.take_out_of_stock(
                lines=[Line(a.pk, 1), Line(b.pk, 3)],
                source="sales_order",
                reference=None,
                user=None,
            )
        assert error.value.as_data() == {"items": [f"Line 2 ({b.sku}): 3 requested, 2 available."]}
        assert quantities(a, b) == [5, 2]
        assert StockMovement.objects.count() == before

    def test_two_lines_of_one_product_count_together(self, two):
        a, _ = two
        with pytest.raises(services.InsufficientStock) as error:
            services.take_out_of_stock(
                lines=[Line(a.pk, 3), Line(a.pk, 3)],
                source="sales_order",
                reference=None,
                user=None,
            )
        assert [s.line for s in error.value.shortages] == [1]
        services.take_out_of_stock(
            lines=[Line(a.pk, 3), Line(a.pk, 2)], source="sales_order", reference=None, user=None
        )
        assert quantities(a) == [0]
        assert [
            m.balance_after for m in StockMovement.objects.filter(product=a).order_by("id")
        ] == [
            5,
            2,
            0,
        ]

    def test_an_error_on_the_last_line_leaves_no_partial_change(self, two, monkeypatch):
        """The products are already updated and all but the last movement written when it fails."""
        a, b = two
        real_insert = books.insert_movements

        def fail_on_last_line(movements):
            real_insert(movements[:-1])
            raise DatabaseError("injected failure on the last line")

        monkeypatch.setattr(books, "insert_movements", fail_on_last_line)
        before = StockMovement.objects.count()
        with pytest.raises(DatabaseError):
            services.take_out_of_stock(
                lines=[Line(a.pk, 1), Line(b.pk, 1)],
                source="sales_order",
                reference=None,
                user=None,
            )
        assert quantities(a, b) == [5, 2]
        assert StockMovement.objects.count() == before


@pytest.mark.django_db
class TestRecordMovement:
    def test_rules_are_enforced_without_the_api(self, two):
        a, _ = two
        for movement_type, quantity in [("IN", 0), ("OUT", -1), ("ADJUST", -1), ("IN", 2**31)]:
            with pytest.raises(services.InvalidStockChange):
                services.record_movement(
                    product=a, movement_type=movement_type, quantity=quantity, user=None
                )
        with pytest.raises(services.InvalidStockChange):
            services.record_movement(product=a, movement_type="GIFT", quantity=1, user=None)
        assert quantities(a) == [5]

    def test_product_with_variations_holds_no_stock(self, organization):
        parent = ProductFactory(organization=organization, has_variations=True)
        ProductFactory(organization=organization, parent=parent, sku="V-RED")
        with pytest.raises(services.NotStockKeeping, match="V-RED"):
            services.record_movement(product=parent, movement_type="IN", quantity=1, user=None)
        assert not StockMovement.objects.filter(product=parent).exists()

    def test_set_stock_level_records_an_adjust_only_when_it_changes(self, two, admin_user):
        a, _ = two
        assert services.set_stock_level(product=a, quantity=5, user=admin_user) is None
        movement = services.set_stock_level(product=a, quantity=8, user=admin_user)
        assert (movement.movement_type, movement.delta, movement.source) == (
            "ADJUST",
            3,
            "product_edit",
        )
        assert a.quantity == 8 == quantities(a)[0]

    def test_initial_stock_is_one_in_movement(self, organization, admin_user):
        product = ProductFactory(organization=organization)
        assert services.record_initial_stock(product=product, quantity=0, user=admin_user) is None
        movement = services.record_initial_stock(product=product, quantity=7, user=admin_user)
        assert (movement.movement_type, movement.source, movement.performed_by) == (
            "IN",
            "initial",
            admin_user,
        )

    def test_a_change_of_low_stock_state_is_written_to_the_outbox_and_heard_after_commit(
        self, stocked, organization, django_capture_on_commit_callbacks
    ):
        low_soon = stocked(quantity=5, organization=organization, low_stock_threshold=2)
        untouched = stocked(quantity=9, organization=organization, low_stock_threshold=2)
        heard = []

        def listener(sender, organization_ids, types, **kwargs):
            heard.append((organization_ids, types))

        events_committed.connect(listener)
        try:
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                services.take_out_of_stock(
                    lines=[Line(low_soon.pk, 3), Line(untouched.pk, 1)],
                    source="manual",
                    reference=None,
                    user=None,
                )
            # Written in the stock change's own transaction, before anyone heard of it.
            event = Event.objects.get(type="stock.low")
            assert (event.data["product"], event.data["quantity"]) == (low_soon.pk, 2)
            assert heard == []
            for callback in callbacks:
                callback()
        finally:
            events_committed.disconnect(listener)
        assert heard == [([organization.pk], ["stock.changed", "stock.low"])]

        Event.objects.all().delete()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.add_to_stock(
                lines=[Line(untouched.pk, 1)], source="manual", reference=None, user=None
            )
        # No state changed: no crossing written (only the movement's `stock.changed`).
        assert [getattr(callback, "func", None) for callback in callbacks][-1] == _move_on
        assert list(Event.objects.values_list("type", flat=True)) == ["stock.changed"]


@pytest.mark.django_db
class TestLedgerReconciliation:
    def test_consistent_ledger_passes(self, two, capsys):
        assert list(ledger_mismatches()) == []
        call_command("check_stock_ledger")
        assert "Stock ledger OK" in capsys.readouterr().out
        assert reconcile_stock_ledger() == []

    def test_a_quantity_changed_behind_the_ledger_is_reported(self, two, organization, capsys):
        a, b = two
        untouched = ProductFactory(organization=organization)  # no movements, quantity 0
        Product.objects.filter(pk=a.pk).update(quantity=9)  # bypasses the service on purpose
        Product.objects.filter(pk=untouched.pk).update(quantity=1)
        rows = list(ledger_mismatches())
        assert [(r["kind"], r["id"], r["recorded"], r["ledger"], r["levels"]) for r in rows] == [
            ("product", a.pk, 9, 5, 5),
            ("product", untouched.pk, 1, 0, 0),
        ]
        with pytest.raises(CommandError) as error:
            call_command("check_stock_ledger", "--batch-size", "1")
        assert error.value.returncode == 1
        captured = capsys.readouterr()
        assert f"product {a.pk} {a.sku}" in captured.out and "difference +4" in captured.out
        assert "checked product ids up to" in captured.err
        assert [row["id"] for row in reconcile_stock_ledger(batch_size=2)] == [a.pk, untouched.pk]

    def test_one_organization_can_be_checked(self, two, other_organization):
        theirs = ProductFactory(organization=other_organization)
        Product.objects.filter(pk=theirs.pk).update(quantity=3)
        call_command("check_stock_ledger", "--organization", str(two[0].organization_id))
        with pytest.raises(CommandError):
            call_command("check_stock_ledger", "--organization", str(other_organization.pk))
