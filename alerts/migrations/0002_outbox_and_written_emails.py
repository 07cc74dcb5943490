"""Crossings come from the ledger's outbox; emails are written before they are sent (the
schema; 0003 moves the existing rows, 0004 adds the one-digest-a-day constraint: PostgreSQL
refuses DDL on a table whose rows changed in the same transaction)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="alertlog", name="body_text", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name="alertlog", name="body_html", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name="alertlog", name="digest_date", field=models.DateField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="alertlog", name="forced", field=models.BooleanField(default=False)
        ),
        migrations.AddField(
            model_name="alertlog",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="alertlog", name="attempts", field=models.PositiveIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="alertlog",
            name="next_attempt_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="alertlog",
            name="kind",
            field=models.CharField(
                choices=[("digest", "Daily digest"), ("crossing", "Low-stock crossing")],
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="alertlog",
            index=models.Index(
                condition=Q(sent_at__isnull=True),
                fields=["next_attempt_at"],
                name="alerts_alertlog_unsent",
            ),
        ),
        migrations.AddField(
            model_name="stockalert",
            name="log",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="crossings",
                to="alerts.alertlog",
            ),
        ),
        migrations.AlterField(
            model_name="stockalert",
            name="opened_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="stockalert",
            name="quantity",
            field=models.IntegerField(help_text="Quantity on hand when the product went low."),
        ),
        migrations.AlterField(
            model_name="stockalert",
            name="low_stock_threshold",
            field=models.IntegerField(help_text="Threshold when the product went low."),
        ),
        migrations.RemoveIndex(model_name="stockalert", name="alerts_stockalert_to_notify"),
        migrations.AddIndex(
            model_name="stockalert",
            index=models.Index(
                condition=Q(notified_at__isnull=True),
                fields=["organization", "id"],
                name="alerts_stockalert_unnotified",
            ),
        ),
    ]
