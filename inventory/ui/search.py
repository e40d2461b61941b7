"""Global search: one query over every object type whose list has a free-text search."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import capfirst
from django.views import View

from inventory.ui import registry
from inventory.ui.filtersets_base import SearchFilterSet
from inventory.ui.generic import user_can

PER_TYPE = 10


class SearchView(LoginRequiredMixin, View):
    """``/search/?q=``: for each type the user may view, its first matches and a link to all of them."""

    def get(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.get("q", "").strip()
        groups = []
        if query:
            for views in sorted(registry.all_views(), key=lambda v: v.model()._meta.verbose_name_plural):
                model = views.model()
                if not issubclass(views.filterset, SearchFilterSet) or not user_can(request, model, "view"):
                    continue
                matches = views.filterset({"q": query}, queryset=views.queryset.all()).qs
                found = list(matches[: PER_TYPE + 1])
                if found:
                    groups.append(
                        {
                            "label": capfirst(model._meta.verbose_name_plural),
                            "objects": found[:PER_TYPE],
                            "more": len(found) > PER_TYPE,
                            "count": matches.count() if len(found) > PER_TYPE else len(found),
                            "list_url": f"{registry.list_url(model)}?{urlencode({'q': query})}",
                        }
                    )
        context = {"query": query, "groups": groups, "total": sum(group["count"] for group in groups)}
        return render(request, "inventory/search.html", context)
