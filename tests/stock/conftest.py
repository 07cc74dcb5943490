"""Locations and a lot-tracked product for the stock tests."""

import pytest

from stock import services
from tests.factories import ProductFactory


@pytest.fixture
def main(organization):
    """The organization's default location, made with it."""
    return services.default_location(organization_id=organization.pk)


@pytest.fixture
def back_room(organization):
    return services.create_location(organization=organization, name="Back room", code="BR")


@pytest.fixture
def other_location(other_organization):
    return services.default_location(organization_id=other_organization.pk)


@pytest.fixture
def yoghurt(organization):
    """A lot-tracked product without stock yet."""
    return ProductFactory(organization=organization, sku="YOG-1", name="Yoghurt", track_lots=True)
