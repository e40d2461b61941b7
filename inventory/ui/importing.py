"""Bulk import page: paste or upload CSV/YAML, preview every row error, then commit all or nothing."""

from __future__ import annotations

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View


class ImportView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "inventory/import.html", {"form": forms.Form()})
