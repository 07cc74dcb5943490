"""Webhooks and the audit trail in a real browser (issue 27): a Corner Shop admin subscribes a
webhook in the admin (its secret shown once), changes a product's price there, the change
reaches the receiver signed, and the product's page and the audit list show who changed what."""

import pytest

from tests.factories import ProductFactory
from tests.support.browser import sign_in
from tests.support.webhooks import Receiver, signature_is_valid
from webhooks.models import Webhook

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_an_admin_subscribes_a_webhook_and_a_price_change_reaches_it_and_the_trail(
    page, organization, admin_user, receiver, settings, eager_celery
):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    admin_user.admin_access = True
    admin_user.save(update_fields=["admin_access"])
    tea = ProductFactory(organization=organization, sku="TEA-1", name="Tea", price="2.50")

    sign_in(page, "alice")
    page.goto("/admin/webhooks/webhook/add/")
    page.fill("#id_url", receiver.url)
    page.check("input[name=events][value='product.updated']")
    page.click("input[name=_save]")
    message = page.locator(".messagelist .warning").inner_text()
    secret = message.rsplit(": ", 1)[1].strip()
    assert secret.startswith("whsec_")
    webhook = Webhook.objects.get()
    assert webhook.organization == organization and webhook.events == ["product.updated"]

    page.goto(f"/admin/inventory/product/{tea.pk}/change/")
    page.fill("#id_price", "2.95")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    assert receiver.wait_for(1)
    assert receiver.types() == ["product.updated"]
    assert receiver.events()[0]["data"]["price"] == "2.95"
    assert signature_is_valid(receiver.requests[0], secret)

    page.goto(f"/admin/inventory/product/{tea.pk}/change/")
    trail = page.locator("table.audit-trail").inner_text()
    assert "alice" in trail and "price: 2.50 → 2.95" in trail
    page.goto("/admin/core/auditentry/")
    listed = page.locator("#result_list").inner_text()
    assert "webhook" in listed and "product" in listed
    assert not page.errors
