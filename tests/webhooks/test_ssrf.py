"""Where a webhook may be sent (API.md, Webhooks): public https addresses only, checked at
creation and again at each delivery, unless WEBHOOK_ALLOW_PRIVATE."""

import socket

import pytest

from tests.support.webhooks import Receiver
from webhooks import services, ssrf
from webhooks.models import Delivery

REFUSED = {
    "loopback": ["127.0.0.1", "127.8.9.10", "::1"],
    "private": ["10.0.0.1", "172.16.5.4", "192.168.1.1", "fd00::1", "fc12::3"],
    "link-local (cloud metadata)": ["169.254.169.254", "fe80::1"],
    "multicast": ["224.0.0.1", "239.255.255.250", "ff02::1"],
    "reserved": ["240.0.0.1", "255.255.255.255"],
    "unspecified": ["0.0.0.0", "::"],
    "shared and documentation": ["100.64.0.1", "192.0.2.1", "198.51.100.7", "2001:db8::1"],
    "this network": ["0.1.2.3"],
    "IPv4-mapped": ["::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254"],
    "6to4 of a private address": ["2002:0a00:0001::1"],
}
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(
    "address", [address for addresses in REFUSED.values() for address in addresses]
)
def test_every_non_public_address_class_is_refused(address):
    assert not ssrf.is_public(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert ssrf.is_public(address)


def resolving_to(monkeypatch, *addresses):
    """The resolver answers `addresses` for any name (as a DNS server under attack could)."""

    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", getaddrinfo)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["93.184.216.34", "10.0.0.7"], ["::ffff:192.168.0.1"], ["169.254.169.254"]],
)
def test_a_name_resolving_to_any_private_address_is_refused_at_creation(
    admin_client, monkeypatch, addresses
):
    resolving_to(monkeypatch, *addresses)

    answer = admin_client.post(
        "/api/webhooks/",
        {"url": "https://hooks.example.com/x", "events": ["stock.changed"]},
        format="json",
    )

    assert answer.status_code == 400
    assert "non-public address" in answer.json()["url"][0]


@pytest.mark.django_db
def test_a_name_that_resolves_to_a_private_address_at_delivery_is_not_sent_to(
    organization, monkeypatch, settings
):
    """Public when subscribed, private by the time of the delivery (DNS rebinding): the
    delivery is refused before any connection, and retried later like any failure."""
    receiver = Receiver()
    try:
        resolving_to(monkeypatch, "93.184.216.34")
        hook, _ = services.create_webhook(
            organization=organization,
            url=f"https://hooks.example.com:{receiver.server.server_address[1]}/hook",
            events=["stock.changed"],
        )
        resolving_to(monkeypatch, "127.0.0.1")  # now it points at us

        delivery = services.ping(webhook=hook)
        services.deliver(delivery_id=delivery.pk)

        delivery.refresh_from_db()
        assert receiver.requests == []
        assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
        assert "non-public address (127.0.0.1)" in delivery.last_error
        assert delivery.response_status is None
    finally:
        receiver.close()


@pytest.mark.django_db
def test_the_delivery_connects_to_the_address_it_checked(organization, monkeypatch, settings):
    """Resolved once per delivery: the connection goes to the checked address, never to what a
    second lookup would answer."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    receiver = Receiver()
    try:
        port = receiver.server.server_address[1]
        resolving_to(monkeypatch, "127.0.0.1")
        hook, _ = services.create_webhook(
            organization=organization,
            url=f"http://receiver.internal:{port}/hook",
            events=["stock.changed"],
        )
        answers = iter([["127.0.0.1"]])
        original = ssrf.socket.getaddrinfo

        def once(host, port, *args, **kwargs):  # a second lookup of the name fails the test
            if host != "receiver.internal":  # the checked address itself (no DNS query)
                return original(host, port, *args, **kwargs)
            addresses = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

        monkeypatch.setattr(ssrf.socket, "getaddrinfo", once)
        delivery = services.ping(webhook=hook)
        assert services.deliver(delivery_id=delivery.pk)
        assert receiver.requests[0]["headers"]["Host"] == f"receiver.internal:{port}"
        monkeypatch.setattr(ssrf.socket, "getaddrinfo", original)
    finally:
        receiver.close()


@pytest.mark.django_db
def test_with_private_allowed_http_and_internal_addresses_are_accepted(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True

    answer = admin_client.post(
        "/api/webhooks/",
        {"url": "http://127.0.0.1:8080/hook", "events": ["stock.changed"]},
        format="json",
    )

    assert answer.status_code == 201
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.check_url("http://127.0.0.1:8080/hook")


def test_urls_with_credentials_or_no_host_are_refused(settings):
    for url in ("https://user:pw@example.com/", "https:///path", "https://exa mple.com:99999/"):
        with pytest.raises(ssrf.UnsafeUrl):
            ssrf.check_url(url)
