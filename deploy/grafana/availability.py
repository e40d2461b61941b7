"""The "Strand availability" dashboard: availability per country, strand and agency over 30 days against
the inventory's objectives, and the error budget left (recording rules of
deploy/prometheus/rules/availability.yml; maintenance time is left out there)."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from deploy.grafana.panels import Column, bargauge_panel, base, table_panel, timeseries_panel

AVAILABILITY_UID = "infrastrand-availability"
AVAILABILITY_30D = "infrastrand:slo_scope_availability:ratio_avg30d"
OBJECTIVE = "max by (scope, scope_value) (infrastrand_slo_objective_ratio)"
SCOPES = (("country", "country"), ("strand", "strand"), ("tenant", "agency"))


def strand_availability() -> model.Dashboard:
    dash = base(
        AVAILABILITY_UID,
        "Strand availability",
        "Availability over 30 days per country, strand and agency (maintenance left out) against the"
        " objectives set in the inventory, and the share of each error budget left.",
    )
    for scope, word in SCOPES:
        dash = dash.with_panel(
            bargauge_panel(
                f"Availability per {word} (30 d)", f'{AVAILABILITY_30D}{{scope="{scope}"}}', "{{scope_value}}"
            )
        )
    return (
        dash.with_panel(
            table_panel(
                "Objectives: availability, target and error budget left (30 d)",
                Column(
                    f"{AVAILABILITY_30D} and on (scope, scope_value) {OBJECTIVE}",
                    "Availability",
                    unit="percentunit",
                ),
                Column(OBJECTIVE, "Objective", unit="percentunit"),
                Column(
                    f"1 - (1 - {AVAILABILITY_30D}) / on (scope, scope_value) (1 - {OBJECTIVE})",
                    "Error budget left",
                    unit="percentunit",
                ),
            )
        )
        .with_panel(
            timeseries_panel(
                "Availability per country and strand (1 d windows)",
                (
                    'infrastrand:slo_scope_availability:ratio_avg1d{scope=~"country|strand"}',
                    "{{scope}} {{scope_value}}",
                ),
                unit="percentunit",
            ).max(1)
        )
        .build()
    )
