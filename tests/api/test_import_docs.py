"""Every example of docs/import.md, taken from the page itself, imports as documented into a freshly
loaded demo database (issue 17.10): the curl example over the API, the example files with
``manage.py import`` in the page's order, and the update by id on the ids the page names."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from inventory import models as m

pytestmark = pytest.mark.django_db

DOC = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text()
EXTENSIONS = {"csv": "csv", "yaml": "yaml", "json": "json"}


def model_examples() -> list[tuple[str, str, str]]:
    """(model, format, file text) of each ``## … (`--model X`)`` section, in the page's order."""
    found = re.findall(r"## [^\n]*\(`--model ([a-z-]+)`\)\n.*?```(csv|yaml|json)\n(.*?)```", DOC, re.S)
    return [(model, fmt, text) for model, fmt, text in found]


def id_example() -> str:
    return re.search(r"## Updating by id[^\n]*\n.*?```csv\n(.*?)```", DOC, re.S)[1]


def curl_example() -> dict:
    return json.loads(re.search(r"-d '(\{\"model\".*?\})'", DOC)[1])


def run_import(path: Path, model: str) -> None:
    """``python manage.py import <path> --model <model>``, as the page shows it."""
    call_command("import", str(path), "--model", model, "--no-progress", stdout=io.StringIO())


@pytest.fixture
def demo_db() -> None:
    call_command("loaddemo", stdout=io.StringIO())


def test_the_page_has_the_examples_this_test_runs() -> None:
    assert [(model, fmt) for model, fmt, _ in model_examples()] == [
        ("sites", "csv"),
        ("devices", "yaml"),
        ("interfaces", "csv"),
        ("ip-addresses", "json"),
    ]
    assert id_example().startswith("id,status,tags\n")
    assert curl_example()["model"] == "sites"


def test_every_example_imports_into_the_demo(demo_db, api, tmp_path) -> None:
    response = api.post("/api/import/", curl_example(), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 1

    for model, fmt, text in model_examples():
        path = tmp_path / f"{model}.{EXTENSIONS[fmt]}"
        path.write_text(text)
        run_import(path, model)

    site = m.Site.objects.get(slug="rabat-annex-dc")
    assert (site.region.slug, site.tenant.slug, site.country) == ("rabat-sale-kenitra", "ma-dda-demo", "MA")
    assert m.Site.objects.get(slug="esch-backup").status == "planned"
    device = m.Device.objects.get(name="rabat-annex-rtr01")
    assert (device.site, device.snmp_profile.name, device.collector_group.slug) == (
        site,
        "ma-demo-router",
        "demo",
    )
    assert str(device.primary_ip4.address) == "10.20.0.1/24"
    assert device.interfaces.get().mac_address == "02:00:00:00:D0:C5"
    assert m.IPAddress.objects.get(address="10.20.0.99/24").status == "reserved"

    # The page names the demo devices its ids stand for; here the ids are whatever the database gave them.
    names = re.search(r"devices 17 and 18 are `([^`]+)` and `([^`]+)`", DOC).groups()
    ids = {
        doc_id: m.Device.objects.get(name=name).pk for doc_id, name in zip(("17", "18"), names, strict=True)
    }
    update = re.sub(r"^(17|18),", lambda found: f"{ids[found[1]]},", id_example(), flags=re.M)
    path = tmp_path / "update.csv"
    path.write_text(update)
    run_import(path, "devices")
    first, second = (m.Device.objects.get(name=name) for name in names)
    assert first.status == "planned" and [t.slug for t in first.tags.all()] == ["demo"]
    assert second.status == "offline" and [t.slug for t in second.tags.all()] == ["demo"]
