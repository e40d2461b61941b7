"""``manage.py discover``: creates the sweep from names, refuses what it cannot run, waits bounded."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inventory import models as m
from inventory.management.commands.discover import wait_for
from inventory.services.discovery import discovery_job_create


def discover(*args: str) -> str:
    out = io.StringIO()
    call_command("discover", *args, stdout=out)
    return out.getvalue()


def test_creates_the_job_with_profiles_in_order_and_defaults(inv):
    second = m.SnmpProfile.objects.create(name="v2c-b", version="2c", community="another-community")
    out = discover(
        "--prefix", "127.77.0.0/28", "--profile", "v2c-b", "--profile", inv.profile.name,
        "--rate", "25", "--port", "11161", "--site", inv.site.slug, "--role", inv.role.slug,
    )  # fmt: skip
    job = m.DiscoveryJob.objects.get()
    assert f"Created {job} (14 addresses)" in out
    assert job.ordered_profiles() == [second, inv.profile]
    assert (job.group, job.rate, job.port, job.site, job.role) == (inv.group, 25.0, 11161, inv.site, inv.role)
    assert job.status == "pending"


def test_refuses_a_big_prefix_unless_forced_and_unknown_names(inv):
    with pytest.raises(CommandError, match=r"--prefix: .*more than a /16"):
        discover("--prefix", "10.0.0.0/15", "--profile", inv.profile.name)
    discover("--prefix", "10.0.0.0/15", "--profile", inv.profile.name, "--force")
    assert m.DiscoveryJob.objects.get().total == 131_070
    with pytest.raises(CommandError, match=r"--profile: No SNMP profile 'nope'"):
        discover("--prefix", "10.0.0.0/24", "--profile", "nope")
    m.CollectorGroup.objects.create(name="Second", slug="second", exporter_address="127.0.0.1:9790")
    with pytest.raises(CommandError, match=r"--group: choose the collector group"):
        discover("--prefix", "10.0.0.0/24", "--profile", inv.profile.name)


def test_wait_gives_up_after_its_timeout_and_the_job_goes_on(inv):
    with pytest.raises(CommandError, match=r"still pending after 0\.2 s"):
        discover(
            "--prefix", "127.77.0.0/30", "--profile", inv.profile.name, "--wait", "--wait-timeout", "0.2"
        )
    assert m.DiscoveryJob.objects.get().status == "pending"


def test_wait_reports_progress_until_the_job_ends(inv):
    job = discovery_job_create(
        data={"prefix": "127.77.0.0/30", "group": inv.group, "profiles": [inv.profile]}
    )
    m.DiscoveryJob.objects.filter(pk=job.pk).update(
        status="completed", done=2, answered=1, finished=timezone.now()
    )
    lines: list[str] = []
    assert wait_for(job, timeout=5, write=lines.append).status == "completed"
    assert lines == [f"{job}: completed, 2/2 swept, 1 answered"]
