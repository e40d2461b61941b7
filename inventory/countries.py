"""ISO 3166-1 countries: the alpha-2 codes ``Site.country`` accepts and the names the UI shows beside them."""

from __future__ import annotations

import pycountry


def _name(country) -> str:
    return getattr(country, "common_name", None) or country.name


COUNTRY_NAMES: dict[str, str] = {country.alpha_2: _name(country) for country in pycountry.countries}
ISO_3166_ALPHA2: frozenset[str] = frozenset(COUNTRY_NAMES)


def country_label(code: str) -> str:
    """``"MA — Morocco"``; an unknown or empty code as it is."""
    name = COUNTRY_NAMES.get((code or "").upper())
    return f"{code.upper()} — {name}" if name else code


COUNTRY_CHOICES: list[tuple[str, str]] = [(code, country_label(code)) for code in sorted(ISO_3166_ALPHA2)]
