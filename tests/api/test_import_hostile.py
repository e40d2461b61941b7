"""``POST /api/import/`` reads JSON with the API's safe parser: deep nesting and NUL characters are a 400."""

from __future__ import annotations

import json

import pytest

from inventory import importer
from inventory import models as m
from inventory.api.parsers import MAX_JSON_DEPTH


def _post(api, body: str):
    return api.post("/api/import/", body, content_type="application/json")


def test_json_nested_past_the_api_limit_is_the_parsers_400(api, inv):
    depth = MAX_JSON_DEPTH + 10  # deeper than the API allows, far from Python's recursion limit
    response = _post(api, '{"model": "sites", "data": ' + "[" * depth + "]" * depth + "}")
    assert response.status_code == 400, response.content
    assert "nested deeper" in response.json()["detail"]


def test_nul_characters_in_the_json_body_are_a_400_and_nothing_is_written(api, inv):
    changes = m.ObjectChange.objects.count()
    for rows in (
        [{"name": "Rabat\x00DC", "slug": "rabat-dc", "country": "MA"}],
        [{"name": "Rabat DC", "slug": "rabat-dc", "country": "MA", "tags": ["core\x00"]}],
        [{"name": "Rabat DC", "slug": "rabat-dc", "country": "MA", "comm\x00ents": "x"}],
    ):
        response = _post(api, json.dumps({"model": "sites", "data": rows}))
        assert response.status_code == 400, (rows, response.content)
        assert "NUL" in response.json()["detail"]
    response = _post(api, json.dumps({"model": "sites", "format": "csv", "data": "name,slug\nA\x00,a\n"}))
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert not m.Site.objects.filter(slug="rabat-dc").exists()
    assert m.ObjectChange.objects.count() == changes


def test_a_nul_character_in_a_file_is_an_error_naming_its_line(inv):
    text = "name,slug,country\nRabat DC,rabat-dc,MA\nTangier\x00,tangier,MA\n"
    with pytest.raises(importer.ImportFailed) as failed:
        importer.parse(text, format="csv", model="sites")
    assert [str(error) for error in failed.value.errors] == ["file: NUL character on line 3 of the file."]


@pytest.mark.parametrize(
    "fmt, text",
    [
        ("yaml", '- name: Rabat DC\n  slug: rabat-dc\n- name: "Tangier\\0"\n  tags: [core, "e\\0"]\n'),
        ("json", '[{"name": "Rabat DC", "slug": "rabat-dc"}, {"name": "T\\u0000", "tags": ["e\\u0000"]}]'),
    ],
)
def test_an_escaped_nul_in_yaml_or_json_is_an_error_naming_record_and_field(fmt, text, inv):
    with pytest.raises(importer.ImportFailed) as failed:
        importer.parse(text, format=fmt, model="sites")
    assert [(e.row, e.field) for e in failed.value.errors] == [(2, "name"), (2, "tags")]


def test_a_yaml_alias_containing_itself_is_walked_once(inv):
    rows = importer.parse("- name: a\n  tags: &loop [x, *loop]\n", format="yaml", model="sites")
    assert rows[0]["name"] == "a"
