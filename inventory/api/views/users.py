"""``/api/users/tokens/`` and ``/api/users/tokens/provision/`` (NetBox's token endpoints)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.filtersets.users import TokenFilterSet
from inventory.api.permissions import IsAuthenticatedUser
from inventory.api.serializers.users import TokenProvisionSerializer, TokenSerializer
from inventory.api.views.base import ApiVersionMixin, BaseModelViewSet
from inventory.models import Token
from inventory.services.api_tokens import token_issue


class TokenViewSet(BaseModelViewSet):
    """Tokens: every user sees and manages their own (no model permission needed, as in NetBox's user
    profile), a superuser all; collector tokens are made by the ``createtoken`` command, never here.
    The key is in the creating answer only. Read-only tokens cannot write (``check_token_scope``)."""

    permission_classes = (IsAuthenticatedUser,)
    queryset = Token.objects.select_related("user")
    brief_prefetch = ("user",)  # the display names the user
    serializer_class = TokenSerializer
    filterset_class = TokenFilterSet

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        return queryset if user.is_superuser else queryset.filter(user=user)

    def create(self, request, *args, **kwargs):
        if isinstance(request.data, list):
            raise ValidationError({"non_field_errors": ["Create one token per request."]})
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = data.get("user") or request.user
        if owner != request.user and not request.user.is_superuser:
            raise PermissionDenied("Only a superuser may create tokens for other users.")
        token, key = token_issue(
            user=owner,
            write_enabled=data.get("write_enabled", True),
            description=data.get("description", ""),
            expires=data.get("expires"),
            actor=request.user,
        )
        token.plaintext_key = key
        return Response(self.get_serializer(token).data, status=status.HTTP_201_CREATED)

    def update_object(self, instance, data):
        if "user" in data and data["user"] != instance.user and not self.request.user.is_superuser:
            raise PermissionDenied("Only a superuser may move a token to another user.")
        return super().update_object(instance, data)


class TokenProvisionView(ApiVersionMixin, APIView):
    """A new token for the user whose username and password are given (no other credential needed)."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(request=TokenProvisionSerializer, responses={201: TokenSerializer})
    def post(self, request):
        form = TokenProvisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise PermissionDenied("Invalid username or password.")
        token, key = token_issue(
            user=user,
            write_enabled=data["write_enabled"],
            description=data["description"],
            expires=data["expires"],
        )
        token.plaintext_key = key
        return Response(
            TokenSerializer(token, context={"request": request}).data, status=status.HTTP_201_CREATED
        )
