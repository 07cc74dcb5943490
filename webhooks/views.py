from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from webhooks import services
from webhooks.models import Delivery, Webhook
from webhooks.serializers import DeliverySerializer, WebhookCreatedSerializer, WebhookSerializer


class WebhookViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """The organization's webhooks (admin only); their deliveries, redelivery and ping."""

    queryset = Webhook.objects.order_by("-created_at", "-id")
    serializer_class = WebhookSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends = []

    @extend_schema(responses={201: WebhookCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook, secret = services.create_webhook(
            organization=request.user.organization, **serializer.validated_data
        )
        webhook.secret = secret
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        webhook = services.update_webhook(webhook=serializer.instance, **serializer.validated_data)
        return Response(self.get_serializer(webhook).data)

    def perform_destroy(self, instance):
        services.delete_webhook(webhook=instance)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        webhook = self.get_object()
        queryset = (
            Delivery.objects.filter(webhook=webhook)
            .select_related("event")
            .defer("event__data")
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/redeliver",
    )
    def redeliver(self, request, pk=None, delivery_id=None):
        webhook = self.get_object()
        delivery = get_object_or_404(Delivery, webhook=webhook, pk=delivery_id)
        delivery = services.redeliver(delivery=delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = services.ping(webhook=self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
