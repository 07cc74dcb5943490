"""The daily digest at the shop's own hour (API.md, Alerts): beat runs the check every hour;
each organization gets its digest at the first run at or after its local `digest_hour`, once
per local day: none twice when a clock goes back, none skipped when it goes forward. The clock
is stopped at each run (time-machine) and moved on an hour at a time."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command

from alerts import tasks
from alerts.models import AlertLog
from core.dates import zone
from tests.factories import OrganizationFactory, ProductFactory, UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def shop(name: str, time_zone: str, digest_hour: int):
    """A shop in the zone with a manager and a product low on stock (something to report)."""
    organization = OrganizationFactory(name=name, time_zone=time_zone, digest_hour=digest_hour)
    UserFactory(organization=organization, role=Role.MANAGER, email=f"{name}@example.com")
    ProductFactory(organization=organization, low_stock_threshold=5)  # 0 on hand: low
    return organization


def run_hourly(clock, start: datetime.datetime, hours: int) -> list[datetime.datetime]:
    """Beat: the check at every full hour (UTC) from `start`, `hours` times."""
    runs = []
    for n in range(hours):
        at = start + datetime.timedelta(hours=n)
        clock.move_to(at)
        tasks.check_low_stock.delay()
        runs.append(at)
    return runs


def sent(organization) -> list[tuple[datetime.date, datetime.datetime]]:
    """(the local day it covers, when it was written in local time) of each digest."""
    tz = zone(organization.time_zone)
    return [
        (log.digest_date, log.created_at.astimezone(tz).replace(tzinfo=None))
        for log in AlertLog.objects.filter(organization=organization, kind=AlertLog.Kind.DIGEST)
        .order_by("created_at")
    ]  # fmt: skip


def first_runs_at_or_after_the_hour(runs, organization) -> dict[datetime.date, datetime.datetime]:
    """The reference: per local day, the first run whose local time is at or after the hour."""
    tz = zone(organization.time_zone)
    due = {}
    for at in runs:
        local = at.astimezone(tz)
        if local.hour >= organization.digest_hour and local.date() not in due:
            due[local.date()] = local.replace(tzinfo=None)
    return due


@pytest.mark.parametrize(
    ("name", "time_zone", "digest_hour", "start"),
    [
        # New York's clocks go back at 02:00 on 1 November (01:00-02:00 happens twice) and
        # forward at 02:00 on 8 March (02:00-03:00 never happens).
        ("ny-back-1", "America/New_York", 1, datetime.datetime(2026, 10, 30, tzinfo=UTC)),
        ("ny-back-2", "America/New_York", 2, datetime.datetime(2026, 10, 30, tzinfo=UTC)),
        ("ny-forward-2", "America/New_York", 2, datetime.datetime(2026, 3, 6, tzinfo=UTC)),
        ("ny-forward-7", "America/New_York", 7, datetime.datetime(2026, 3, 6, tzinfo=UTC)),
        # Auckland's go back at 03:00 on 5 April and forward at 02:00 on 27 September.
        ("akl-back-2", "Pacific/Auckland", 2, datetime.datetime(2026, 4, 2, tzinfo=UTC)),
        ("akl-forward-2", "Pacific/Auckland", 2, datetime.datetime(2026, 9, 24, tzinfo=UTC)),
        ("akl-forward-23", "Pacific/Auckland", 23, datetime.datetime(2026, 9, 24, tzinfo=UTC)),
        ("kiritimati-0", "Pacific/Kiritimati", 0, datetime.datetime(2026, 11, 19, tzinfo=UTC)),
        ("pago-pago-23", "Pacific/Pago_Pago", 23, datetime.datetime(2026, 11, 19, tzinfo=UTC)),
    ],
)
def test_one_digest_a_local_day_at_the_first_run_at_or_after_its_hour(
    clock, eager_celery, name, time_zone, digest_hour, start
):
    organization = shop(name, time_zone, digest_hour)
    runs = run_hourly(clock, start, 5 * 24)

    digests = sent(organization)

    expected = first_runs_at_or_after_the_hour(runs, organization)
    assert digests == sorted(expected.items())
    days = [day for day, _ in digests]
    assert len(days) == len(set(days))  # none twice
    first, last = days[0], days[-1]
    assert days == [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    assert len(days) >= 4  # five days of runs: none skipped
    assert len(mail.outbox) == len(digests)
    subjects = [message.subject for message in mail.outbox]
    assert [f"on {day.isoformat()}" in subject for (day, _), subject in zip(
        digests, subjects, strict=True)] == [True] * len(digests)  # fmt: skip


def test_across_the_change_the_hour_is_the_local_one(clock, eager_celery):
    """At 01:00 on the day New York's clocks go back, the digest goes out at the first 01:00
    (EDT) and not again at the second (EST); on the day they go forward, a 02:00 digest goes
    out at 03:00 EDT, the first run after the hour that never happens."""
    back = shop("back", "America/New_York", 1)
    forward = shop("forward", "America/New_York", 2)

    run_hourly(clock, datetime.datetime(2026, 11, 1, 4, tzinfo=UTC), 3)  # 00:00, 01:00, 01:00
    run_hourly(clock, datetime.datetime(2026, 3, 8, 5, tzinfo=UTC), 3)  # 00:00, 01:00, 03:00

    (digest,) = AlertLog.objects.filter(organization=back, digest_date="2026-11-01")
    assert digest.created_at == datetime.datetime(2026, 11, 1, 5, tzinfo=UTC)  # 01:00 EDT
    assert digest.digest_date == datetime.date(2026, 11, 1)
    (digest,) = AlertLog.objects.filter(organization=forward, digest_date="2026-03-08")
    assert digest.created_at == datetime.datetime(2026, 3, 8, 7, tzinfo=UTC)  # 03:00 EDT


def test_every_shop_at_its_own_hour_from_one_hourly_run(clock, eager_celery):
    """At 18:00 UTC on the 20th it is 07:00 on the 21st in Auckland and 13:00 in New York:
    Auckland's 07:00 digest goes out, New York's 14:00 one waits an hour, and a shop with
    nothing to report gets none."""
    auckland = shop("akl", "Pacific/Auckland", 7)
    new_york = shop("ny", "America/New_York", 14)
    quiet = OrganizationFactory(name="quiet", time_zone="UTC", digest_hour=0)
    UserFactory(organization=quiet, role=Role.MANAGER)

    clock.move_to(datetime.datetime(2026, 11, 20, 18, tzinfo=UTC))
    assert tasks.check_low_stock.delay().get() == [auckland.pk]
    clock.move_to(datetime.datetime(2026, 11, 20, 19, tzinfo=UTC))
    assert tasks.check_low_stock.delay().get() == [new_york.pk]
    clock.move_to(datetime.datetime(2026, 11, 20, 20, tzinfo=UTC))
    assert tasks.check_low_stock.delay().get() == []

    assert AlertLog.objects.get(organization=auckland).digest_date == datetime.date(2026, 11, 21)
    assert AlertLog.objects.get(organization=new_york).digest_date == datetime.date(2026, 11, 20)
    assert not AlertLog.objects.filter(organization=quiet).exists()


def test_the_command_sends_what_is_due_whatever_the_hour_or_at_the_hour_from_cron(clock, capsys):
    """`check_low_stock`: every digest of the day still due, whatever the hour; with
    `--at-digest-hour` (the hourly cron line) only where the hour has come; `--force` again."""
    early = shop("early", "Europe/Paris", 6)
    late = shop("late", "Europe/Paris", 20)
    clock.move_to(datetime.datetime(2026, 11, 21, 9, tzinfo=UTC))  # 10:00 in Paris

    call_command("check_low_stock", "--at-digest-hour")
    assert [log.organization_id for log in AlertLog.objects.all()] == [early.pk]
    assert "1 low-stock email(s) sent." in capsys.readouterr().out

    call_command("check_low_stock")
    assert sorted(AlertLog.objects.values_list("organization_id", flat=True)) == sorted(
        [early.pk, late.pk]
    )
    call_command("check_low_stock")
    call_command("check_low_stock", "--at-digest-hour")
    assert AlertLog.objects.count() == 2  # once a local day
    assert "0 low-stock email(s) sent." in capsys.readouterr().out

    call_command("check_low_stock", "--force")
    assert AlertLog.objects.filter(forced=True).count() == 2
    assert "2 low-stock email(s) sent." in capsys.readouterr().out
