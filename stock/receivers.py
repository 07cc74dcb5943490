"""Stock hears of new organizations: each gets its default location, `Main`."""

from stock import services


def make_default_location(sender, *, instance, created, raw=False, **kwargs):
    """However an organization is made (registration, the admin, a script), it gets `Main`
    in the same transaction."""
    if created and not raw:
        services.default_location(organization_id=instance.pk)
