import pytest

from stock.services import create_location, default_location


@pytest.fixture
def main(organization):
    return default_location(organization_id=organization.pk)


@pytest.fixture
def back_room(organization):
    return create_location(organization=organization, name="Back room")
