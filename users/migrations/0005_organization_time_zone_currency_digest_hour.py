"""An organization's time zone, currency and digest hour (API.md, Organization). Existing
organizations get DEFAULT_TIME_ZONE and DEFAULT_CURRENCY (UTC and USD unless set: their days and
reports stay as they were) and the digest at 07:00 local time."""

from django.conf import settings
from django.db import migrations, models

import users.models


def organizations_start_with_the_defaults(apps, schema_editor):
    apps.get_model("users", "Organization").objects.update(
        time_zone=settings.DEFAULT_TIME_ZONE, currency=settings.DEFAULT_CURRENCY
    )


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0004_password_reset_requests"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="currency",
            field=models.CharField(
                db_default="USD",
                default=users.models.default_currency,
                help_text="An ISO 4217 currency code.",
                max_length=3,
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="digest_hour",
            field=models.PositiveSmallIntegerField(
                db_default=7,
                default=7,
                help_text="The local hour (0-23) at which the daily digest goes out.",
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="time_zone",
            field=models.CharField(
                db_default="UTC",
                default=users.models.default_time_zone,
                help_text="An IANA time zone name.",
                max_length=64,
            ),
        ),
        migrations.RunPython(organizations_start_with_the_defaults, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.CheckConstraint(
                condition=models.Q(("digest_hour__gte", 0), ("digest_hour__lte", 23)),
                name="users_organization_digest_hour_0_23",
            ),
        ),
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.CheckConstraint(
                condition=models.Q(("currency__regex", "^[A-Z]{3}$")),
                name="users_organization_currency_code",
            ),
        ),
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.CheckConstraint(
                condition=models.Q(("time_zone", ""), _negated=True),
                name="users_organization_time_zone_set",
            ),
        ),
    ]
