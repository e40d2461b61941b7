"""``/api/core/jobs/``: background jobs (imports); a user sees their own, a superuser every job."""

from __future__ import annotations

import django_filters

from inventory.api.permissions import IsAuthenticatedUser
from inventory.api.serializers.jobs import JobSerializer
from inventory.api.views.base import ReadOnlyViewSet
from inventory.models import Job
from inventory.models.jobs import JobStatusChoices


class JobFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=JobStatusChoices.CHOICES)
    kind = django_filters.CharFilter()

    class Meta:
        model = Job
        fields = ("id", "status", "kind")


class JobViewSet(ReadOnlyViewSet):
    queryset = Job.objects.select_related("user").defer("data")
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    permission_classes = (IsAuthenticatedUser,)

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        if not user.is_superuser:
            queryset = queryset.filter(user=user.pk)
        return queryset
