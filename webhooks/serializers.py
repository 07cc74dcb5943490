from rest_framework import serializers

from webhooks.models import EVENT_TYPES, Delivery, Webhook


class WebhookSerializer(serializers.ModelSerializer):
    """`secret`: write-only; the answer to a create shows it once (the view adds it)."""

    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False, max_length=50
    )
    secret = serializers.CharField(
        write_only=True, required=False, min_length=16, max_length=200, trim_whitespace=False
    )
    url = serializers.URLField(max_length=500)

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "is_active", "secret", "created_at"]
        read_only_fields = ["id", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    """The answer to a create: with the secret, this once."""

    secret = serializers.CharField(read_only=True)


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.uuid", read_only=True)
    event = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "created_at",
            "delivered_at",
            "next_attempt_at",
        ]
        read_only_fields = fields
