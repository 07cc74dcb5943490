"""The README's screenshots of the admin (docs/admin-dashboard.png, docs/admin-product.png),
taken by the browser of the browser tests on a realistic demo shop (tests/support/demo.py),
signed in as its manager. Every run takes them and checks that they show the page drawn;
`SCREENSHOTS_DIR=docs` writes them there too:

    SCREENSHOTS_DIR=docs make test PYTEST_ARGS="tests/browser/test_screenshots.py"
"""

import datetime
import os
import struct
from pathlib import Path

import pytest

from core.dates import local_today
from tests.factories import OrganizationFactory, UserFactory
from tests.support.browser import read_chart, sign_in
from tests.support.demo import build_deli
from users.models import Role

pytestmark = pytest.mark.browser


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is no PNG"
    return struct.unpack(">II", header[16:24])


@pytest.fixture
def deli(db):
    organization = OrganizationFactory(name="Harbour Deli")
    manager = UserFactory(username="maria", first_name="Maria", organization=organization,
                          role=Role.MANAGER, admin_access=True)  # fmt: skip
    return build_deli(organization, manager)


def test_screenshots_of_the_dashboard_and_a_product_page(page, deli, tmp_path):
    out = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    sign_in(page, "maria")
    since = (local_today(None) - datetime.timedelta(weeks=12)).isoformat()
    page.goto(f"/admin/dashboard/?date_from={since}&interval=week")
    sales = read_chart(page, "chart-sales")
    assert len(sales["labels"]) == 13 and sum(sales["datasets"][0]["data"]) > 0
    read_chart(page, "chart-categories")
    read_chart(page, "chart-locations")
    page.screenshot(path=out / "admin-dashboard.png", full_page=True)

    yoghurt = deli["products"]["YOG-GR500"]
    page.goto(f"/admin/inventory/product/{yoghurt.pk}/change/")
    page.wait_for_selector("table.stock-levels")
    page.screenshot(path=out / "admin-product.png", full_page=True)

    for name in ("admin-dashboard.png", "admin-product.png"):
        width, height = png_size(out / name)
        assert width == 1400 and height >= 900, (name, width, height)
    assert page.errors == []
