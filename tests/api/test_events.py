"""Event log (issue 14.2): poll state changes become events, trap events from collectors (group-scoped),
the read-only API with NetBox filters, the retention command; alert history (14.3): the webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from inventory import models as m
from inventory.services.monitoring import observation_record

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@pytest.fixture
def inv(inv):
    """The shared inventory without the ``change`` events its creation wrote: these tests count events."""
    m.Event.objects.filter(source="change").delete()
    return inv


def observe(device, minutes: int, *, up: bool, uptime: float | None = None, error: str = ""):
    facts = {"sysName": device.name, "uptime_seconds": uptime} if up and uptime is not None else None
    return observation_record(
        device=device,
        collector="c1",
        polled_at=T0 + timedelta(minutes=minutes),
        up=up,
        error=error,
        facts=facts,
        detect_drift=False,  # poll events only: a device that never answered would open a drift item
    )


def kinds(device) -> list[str]:
    return list(m.Event.objects.filter(device=device).order_by("time", "pk").values_list("kind", flat=True))


# -- poll state changes ------------------------------------------------------------------------------


def test_up_down_up_and_a_reboot_become_events(inv):
    device = inv.devices[0]
    observe(device, 0, up=True, uptime=10_000)
    assert kinds(device) == []  # the first observation is no change
    observe(device, 1, up=True, uptime=10_060)
    observe(device, 2, up=False, error="timeout")
    observe(device, 3, up=True, uptime=10_180)
    observe(device, 4, up=True, uptime=30)  # sysUpTime went backwards: restarted 30 s before the poll
    assert kinds(device) == ["down", "up", "reboot"]
    down, _up, reboot = m.Event.objects.filter(device=device).order_by("time", "pk")
    assert down.source == "poll" and down.severity == "critical" and "timeout" in down.text
    assert down.site_id == device.site_id and down.time == T0 + timedelta(minutes=2)
    assert reboot.time == T0 + timedelta(minutes=4, seconds=-30)
    assert reboot.severity == "warning"


def test_light_observations_and_an_older_one_write_no_event(inv):
    device = inv.devices[0]
    observe(device, 5, up=True, uptime=500)
    observe(device, 6, up=True)  # light: facts not sent
    observe(device, 1, up=False)  # older than the stored one: ignored
    observe(device, 7, up=True, uptime=499)  # within the slack: no reboot
    assert kinds(device) == []


# -- API ---------------------------------------------------------------------------------------------


def test_events_api_filters_by_device_site_source_severity_and_time(inv, api):
    a, b = inv.devices[0], inv.devices[1]
    observe(a, 0, up=True, uptime=100)
    observe(a, 10, up=False)
    observe(b, 0, up=False)
    observe(b, 20, up=True, uptime=5)
    rows = api.get("/api/monitoring/events/").json()
    assert rows["count"] == 2
    assert [r["kind"] for r in rows["results"]] == ["up", "down"]  # newest first
    first = rows["results"][0]
    assert first["source"] == {"value": "poll", "label": "Poll state change"}
    assert first["device"]["id"] == b.pk and first["site"]["slug"] == b.site.slug
    assert api.get(f"/api/monitoring/events/?device_id={a.pk}").json()["count"] == 1
    assert api.get(f"/api/monitoring/events/?site={a.site.slug}").json()["count"] == (
        2 if a.site_id == b.site_id else 1
    )
    assert api.get("/api/monitoring/events/?severity=critical").json()["count"] == 1
    assert api.get("/api/monitoring/events/?source=trap").json()["count"] == 0
    since = (T0 + timedelta(minutes=15)).isoformat()
    assert [
        r["kind"] for r in api.get("/api/monitoring/events/", {"time__gte": since}).json()["results"]
    ] == ["up"]
    assert api.get("/api/monitoring/events/?severity=bogus").status_code == 400
    assert api.get("/api/monitoring/events/?device_id=999999").status_code == 400
    assert api.post("/api/monitoring/events/", {"text": "x"}, format="json").status_code == 405


def test_events_api_needs_the_view_permission(inv, make_token, client_for):
    assert client_for(make_token()).get("/api/monitoring/events/").status_code == 403
    assert client_for(make_token("view_event")).get("/api/monitoring/events/").status_code == 200


# -- collector trap events ---------------------------------------------------------------------------


def trap(device_id, **extra):
    return {
        "time": "2026-11-30T06:00:00Z",
        "device_id": device_id,
        "source": "192.0.2.1",
        "trap": "linkDown",
        "severity": "warning",
        "text": "linkDown ifIndex 2 (eth1)",
        "details": {"ifIndex": 2, "ifName": "eth1"},
        **extra,
    }


def test_collector_posts_trap_events_scoped_to_its_groups(inv, make_token, client_for):
    other = m.CollectorGroup.objects.create(name="Other", slug="other", exporter_address="127.0.0.1:9799")
    m.Device.objects.filter(pk=inv.devices[1].pk).update(collector_group=other)
    own = inv.devices[0].collector_group.slug
    client = client_for(make_token(collector=True, groups=(own,)))
    body = {
        "collector": "c1",
        "events": [trap(inv.devices[0].pk), trap(inv.devices[1].pk), trap(None), {"time": "never"}],
    }
    response = client.post("/api/collector/events/", body, format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["accepted"] == 2 and answer["rejected_devices"] == [inv.devices[1].pk]
    assert answer["rejected"][0]["index"] == 3 and "time" in answer["rejected"][0]["errors"]
    event = m.Event.objects.get(device=inv.devices[0])
    assert (event.source, event.kind, event.severity) == ("trap", "linkDown", "warning")
    assert event.details["ifName"] == "eth1" and event.details["sender"] == "192.0.2.1"
    assert m.Event.objects.filter(device=None, source="trap").count() == 1
    only_other = client.post(
        "/api/collector/events/", {"collector": "c1", "events": [trap(inv.devices[1].pk)]}, format="json"
    )
    assert only_other.status_code == 403 and "other" not in only_other.json()["detail"].split(":")[0]


def test_ordinary_tokens_may_not_post_trap_events(inv, api):
    assert (
        api.post("/api/collector/events/", {"collector": "c", "events": []}, format="json").status_code == 403
    )


# -- retention --------------------------------------------------------------------------------------


def test_purgeevents_keeps_the_retention(inv, settings):
    device = inv.devices[0]
    now = datetime.now(UTC)
    old = m.Event.objects.create(time=now - timedelta(days=40), source="poll", text="old", device=device)
    new = m.Event.objects.create(time=now - timedelta(days=2), source="poll", text="new", device=device)
    settings.EVENT_RETENTION_DAYS = 30
    call_command("purgeevents")
    assert list(m.Event.objects.values_list("pk", flat=True)) == [new.pk]
    call_command("purgeevents", "--days", "1")
    assert not m.Event.objects.exists()
    assert old.pk != new.pk


# -- alert webhook ------------------------------------------------------------------------------------


def alert(status: str, device: m.Device, *, ends: str = "0001-01-01T00:00:00Z", fingerprint="abc123"):
    return {
        "status": status,
        "labels": {"alertname": "InfrastrandDeviceDown", "device": device.name, "severity": "critical"},
        "annotations": {"summary": f"{device.name} is down"},
        "startsAt": "2026-11-30T06:00:00Z",
        "endsAt": ends,
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }


def notification(*alerts, status="firing"):
    return {
        "version": "4",
        "status": status,
        "receiver": "inventory",
        "groupKey": "{}",
        "alerts": list(alerts),
    }


def test_webhook_upserts_alerts_and_writes_one_event_per_transition(inv, api):
    device = inv.devices[0]
    firing = notification(alert("firing", device))
    assert api.post("/api/monitoring/alerts/webhook/", firing, format="json").json() == {
        "created": 1,
        "updated": 0,
        "events": 1,
    }
    assert (
        api.post("/api/monitoring/alerts/webhook/", firing, format="json").json()["events"] == 0
    )  # a repeat
    resolved = notification(alert("resolved", device, ends="2026-11-30T06:30:00Z"), status="resolved")
    assert api.post("/api/monitoring/alerts/webhook/", resolved, format="json").json()["events"] == 1
    record = m.AlertRecord.objects.get()
    assert record.device == device and record.site == device.site
    assert record.status == "resolved" and record.duration_seconds == 1800
    events = list(m.Event.objects.filter(source="alert").order_by("time").values_list("text", "severity"))
    assert events == [
        (f"InfrastrandDeviceDown firing: {device.name} is down", "critical"),
        (f"InfrastrandDeviceDown resolved: {device.name} is down", "info"),
    ]
    listed = api.get(f"/api/monitoring/alerts/?device_id={device.pk}").json()["results"]
    assert listed[0]["duration_seconds"] == 1800 and listed[0]["status"]["value"] == "resolved"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda n: n.update(version="3"), "version"),
        (lambda n: n["alerts"][0].pop("fingerprint"), "fingerprint"),
        (lambda n: n["alerts"][0].update(startsAt="yesterday"), "startsAt"),
        (lambda n: n["alerts"][0]["labels"].pop("alertname"), "labels"),
        (lambda n: n["alerts"][0].update(status="pending"), "status"),
    ],
)
def test_webhook_bad_payload_is_400_naming_the_field(inv, api, change, field):
    body = notification(alert("firing", inv.devices[0]))
    change(body)
    response = api.post("/api/monitoring/alerts/webhook/", body, format="json")
    assert response.status_code == 400
    assert field in response.content.decode()
    assert not m.AlertRecord.objects.exists()


def test_webhook_needs_a_token_with_the_alert_permission(inv, make_token, client_for):
    body = notification(alert("firing", inv.devices[0]))
    assert client_for(None).post("/api/monitoring/alerts/webhook/", body, format="json").status_code in (
        401,
        403,
    )
    assert (
        client_for(make_token()).post("/api/monitoring/alerts/webhook/", body, format="json").status_code
        == 403
    )
    allowed = make_token("add_alertrecord", "change_alertrecord")
    assert client_for(allowed).post("/api/monitoring/alerts/webhook/", body, format="json").status_code == 200


def test_targets_list_other_documented_addresses_for_traps(inv, make_token, client_for):
    """Contract 1's optional ``addresses``: documented IPs other than the target address (traps may come
    from a loopback); absent when a device has none."""
    from inventory.services.dcim import interface_add_ip

    device = inv.devices[0]
    second = device.interfaces.order_by("name").last()
    interface_add_ip(interface=second, address="10.255.0.1/32")
    interface_add_ip(interface=second, address="2001:db8::1/128")
    client = client_for(make_token(collector=True))
    body = client.get(f"/api/collector/targets/?group={inv.group.slug}").json()
    by_name = {t["name"]: t for t in body["targets"]}
    assert by_name[device.name]["addresses"] == ["10.255.0.1", "2001:db8::1"]
    assert by_name[device.name]["address"] == "127.0.2.1"
    assert "addresses" not in by_name[inv.devices[1].name]
