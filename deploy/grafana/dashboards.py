"""The infrastrand dashboards, built with grafana-foundation-sdk.

Metric names follow DEVELOPERS.md contract 4 and the recording rules in deploy/prometheus/rules/.
Template variables: ``$country``, ``$site``, ``$interface`` and ``$collector`` are multi-valued regexes
(``.*`` for All); ``$device`` is one device name, picked among the devices of ``$country`` and ``$site``.
Every timeseries panel has one unit (one quantity per axis). The overview's geomap draws its sites on
the Grafana server's default base layer, or on the tile server given to :func:`overview` (no internet
tiles assumed: deploy/README.md, "Grafana").
"""

from __future__ import annotations

from collections.abc import Callable

from grafana_foundation_sdk.builders import common, geomap, timeseries
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import geomap as geomap_model

from deploy.grafana.availability import AVAILABILITY_UID, strand_availability
from deploy.grafana.panels import (
    AVAILABILITY_THRESHOLDS,
    COLLECTORS_UID,
    DATASOURCE,
    DEVICE_LINK,
    DEVICE_UID,
    IF_STATUS,
    INTERFACE_LINK,
    INTERFACES_UID,
    OVERVIEW_UID,
    SENSOR_STATUS,
    SITE_LINK,
    SITE_UID,
    STATUS_UP_DOWN,
    UPS_SOURCE,
    Column,
    bargauge_panel,
    base,
    data_link,
    label_variable,
    query,
    stat_panel,
    state_timeline_panel,
    table_panel,
    thresholds,
    timeseries_panel,
)

COUNTRY = label_variable("country", "Country", "label_values(infrastrand_device_up, country)")
SITE = label_variable("site", "Site", 'label_values(infrastrand_device_up{country=~"$country"}, site)')
DEVICE = label_variable(
    "device",
    "Device",
    'label_values(infrastrand_device_up{country=~"$country", site=~"$site"}, device)',
    multi=False,
    include_all=False,
)
INTERFACE = label_variable("interface", "Interface", 'label_values(ifOperStatus{device="$device"}, ifName)')
COLLECTOR = label_variable(
    "collector", "Collector", 'label_values(up{job="infrastrand-collectors"}, instance)'
)

# Down ports the inventory documents as enabled and connected, as InfrastrandInterfaceDown sees them.
IF_DOWN = (
    "(ifOperStatus{%s} == 2 or ifOperStatus{%s} == 7) and on (instance, ifIndex) ifAdminStatus == 1"
    ' and on (device, ifName) infrastrand_interface_documented{enabled="true", connected="true"}'
)
# Open drift (the inventory's drift engine, on its /metrics): items and age of the oldest, by kind.
DRIFT_ITEMS = "sum by (site, kind) (infrastrand_drift_items{%s})"
DRIFT_AGE = "time() - min by (site, kind) (infrastrand_drift_oldest_open_timestamp_seconds{%s})"


def drift_panels(selector: str) -> list:
    """Open drift by kind and site (counts, and how old the oldest is), linking the site dashboard."""
    return [
        stat_panel("Open drift items", f"sum(infrastrand_drift_items{{{selector}}}) or vector(0)").thresholds(
            thresholds((None, "green"), (1, "orange"))
        ),
        timeseries_panel(
            "Open drift by kind",
            (f"sum by (kind) (infrastrand_drift_items{{{selector}}})", "{{kind}}"),
            span=18,
        ).min(0),
        table_panel(
            "Open drift by site and kind",
            Column(DRIFT_ITEMS % selector, "Open items"),
            Column(DRIFT_AGE % selector, "Oldest open for", unit="s"),
        ).data_links([data_link("Site ${__data.fields.site}", SITE_LINK)]),
    ]


def basemap(tile_url: str | None) -> common.MapLayerOptions:
    """The geomap's base layer: XYZ tiles from ``tile_url`` ({z}/{x}/{y}), else the Grafana server's
    default base layer (grafana.ini ``[geomap] default_baselayer``)."""
    if not tile_url:
        return common.MapLayerOptions().type("default").name("Basemap")
    return (
        common.MapLayerOptions()
        .type("xyz")
        .name("Basemap")
        .config({"url": tile_url, "attribution": "Map tiles: " + tile_url.split("/{", 1)[0]})
    )


def overview(tile_url: str | None = None) -> model.Dashboard:
    """Strand overview: sites on a map, availability per country, strand and agency, what is down,
    open drift."""
    c = 'country=~"$country"'
    sites_map = (
        geomap.Panel()
        .title("Sites (colour: share of devices up)")
        .datasource(DATASOURCE)
        .with_target(
            query(
                f"site:infrastrand_device_up:avg{{{c}}} * on (site) group_left (latitude, longitude)"
                " max by (site, latitude, longitude) (infrastrand_site_info)",
                instant=True,
            )
        )
        .with_transformation(
            model.DataTransformerConfig(
                id_val="convertFieldType",
                options={
                    "conversions": [
                        {"targetField": "latitude", "destinationType": "number"},
                        {"targetField": "longitude", "destinationType": "number"},
                    ]
                },
            )
        )
        .view(geomap.MapViewConfig().id("coords").lat(40).lon(0).zoom(4))
        .tooltip(geomap.TooltipOptions().mode(geomap_model.TooltipMode.DETAILS))
        .basemap(basemap(tile_url))
        .layers(
            [
                common.MapLayerOptions()
                .type("markers")
                .name("Sites")
                .location(
                    common.FrameGeometrySource()
                    .mode(common_model.FrameGeometrySourceMode.COORDS)
                    .latitude("latitude")
                    .longitude("longitude")
                )
                .config(
                    {
                        "showLegend": True,
                        "style": {
                            "color": {"field": "Value", "fixed": "dark-green"},
                            "size": {"fixed": 10},
                            "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                            "text": {"field": "site", "mode": "field"},
                            "textConfig": {"fontSize": 12, "offsetY": -14, "textAlign": "center"},
                        },
                    }
                )
                .tooltip(True)
            ]
        )
        .unit("percentunit")
        .min(0)
        .max(1)
        .thresholds(AVAILABILITY_THRESHOLDS)
        .data_links([data_link("Site ${__data.fields.site}", SITE_LINK)])
        .height(14)
        .span(12)
    )
    builder = (
        base(OVERVIEW_UID, "Strand overview", "Shared infrastructure of the Morocco-Luxembourg strand.")
        .with_variable(COUNTRY)
        .with_panel(stat_panel("Devices up", f"count(infrastrand_device_up{{{c}}} == 1) or vector(0)"))
        .with_panel(
            stat_panel("Devices down", f"count(infrastrand_device_up{{{c}}} == 0) or vector(0)").thresholds(
                thresholds((None, "green"), (1, "red"))
            )
        )
        .with_panel(
            stat_panel(
                "Interfaces down (documented connected)", f"count({IF_DOWN % (c, c)}) or vector(0)"
            ).thresholds(thresholds((None, "green"), (1, "orange")))
        )
        .with_panel(
            stat_panel(
                "Sites fully down", f"count(site:infrastrand_device_up:avg{{{c}}} == 0) or vector(0)"
            ).thresholds(thresholds((None, "green"), (1, "red")))
        )
        .with_panel(sites_map)
        .with_panel(
            bargauge_panel(
                "Availability per country",
                f"country:infrastrand_device_up:avg{{{c}}}",
                "{{country}}",
                span=12,
            ).height(7)
        )
        .with_panel(
            bargauge_panel(
                "Availability per strand",
                f"avg by (strand) (infrastrand:device_strand_up{{{c}}})",
                "{{strand}}",
                span=12,
            ).height(7)
        )
        .with_panel(
            bargauge_panel(
                "Availability per agency",
                f"tenant:infrastrand_device_up:avg{{{c}}}",
                "{{tenant}} ({{country}})",
                span=12,
            )
        )
        .with_panel(
            timeseries_panel(
                "Availability per country over time",
                (f"country:infrastrand_device_up:avg{{{c}}}", "{{country}}"),
                unit="percentunit",
            )
            .min(0)
            .max(1)
        )
        .with_panel(
            table_panel(
                "Devices down (list)",
                Column(f"infrastrand_device_up{{{c}}} == 0", "Status", mapping=STATUS_UP_DOWN),
                span=12,
            ).data_links([data_link("Device ${__data.fields.device}", DEVICE_LINK)])
        )
        .with_panel(
            table_panel(
                "Interfaces down (list)", Column(IF_DOWN % (c, c), "Oper status", mapping=IF_STATUS), span=12
            ).data_links([data_link("Interface ${__data.fields.ifName}", INTERFACE_LINK)])
        )
        .with_panel(
            table_panel(
                "Top utilised links (max of in and out, %)",
                Column(
                    "topk(10, max by (device, site, country, ifName, ifAlias) "
                    f'({{__name__=~"infrastrand:interface_(in|out)_utilisation:percent", {c}}}))',
                    "Utilisation",
                    unit="percent",
                ),
            ).data_links([data_link("Interface ${__data.fields.ifName}", INTERFACE_LINK)])
        )
    )
    for panel in drift_panels(c):
        builder = builder.with_panel(panel)
    return builder.build()


def site() -> model.Dashboard:
    """One site: its devices with status, traffic, UPS and environment."""
    s = 'site=~"$site"'
    builder = (
        base(SITE_UID, "Site", "Devices of a site: status, traffic, power and environment.")
        .with_variable(COUNTRY)
        .with_variable(SITE)
        .with_panel(
            stat_panel(
                "Devices up (share)",
                f"site:infrastrand_device_up:avg{{{s}}}",
                unit="percentunit",
                legend="{{site}}",
            )
            .thresholds(AVAILABILITY_THRESHOLDS)
            .span(8)
        )
        .with_panel(
            stat_panel("Devices down", f"count(infrastrand_device_up{{{s}}} == 0) or vector(0)")
            .thresholds(thresholds((None, "green"), (1, "red")))
            .span(8)
        )
        .with_panel(
            stat_panel("Interfaces down (documented connected)", f"count({IF_DOWN % (s, s)}) or vector(0)")
            .thresholds(thresholds((None, "green"), (1, "orange")))
            .span(8)
        )
        .with_panel(
            table_panel(
                "Devices",
                Column(f"infrastrand_device_up{{{s}}}", "Status", mapping=STATUS_UP_DOWN),
                Column(f"infrastrand:device_uptime:seconds{{{s}}}", "Uptime", unit="s"),
                Column(f"infrastrand:poll_age:seconds{{{s}}}", "Last poll", unit="s"),
            ).data_links([data_link("Device ${__data.fields.device}", DEVICE_LINK)])
        )
        .with_panel(
            timeseries_panel(
                "Traffic in per device",
                (f"sum by (device) (infrastrand:interface_in_bits:rate5m{{{s}}})", "{{device}}"),
                unit="bps",
            )
        )
        .with_panel(
            timeseries_panel(
                "Traffic out per device",
                (f"sum by (device) (infrastrand:interface_out_bits:rate5m{{{s}}})", "{{device}}"),
                unit="bps",
            )
        )
        .with_panel(
            stat_panel("UPS output source", f"upsOutputSource{{{s}}}", legend="{{device}}").mappings(
                [UPS_SOURCE]
            )
        )
        .with_panel(
            stat_panel(
                "UPS battery charge",
                f"upsEstimatedChargeRemaining{{{s}}}",
                unit="percent",
                legend="{{device}}",
            ).thresholds(thresholds((None, "red"), (30, "orange"), (80, "green")))
        )
        .with_panel(
            stat_panel(
                "UPS runtime left", f"upsEstimatedMinutesRemaining{{{s}}}", unit="m", legend="{{device}}"
            ).thresholds(thresholds((None, "red"), (10, "orange"), (30, "green")))
        )
        .with_panel(
            stat_panel(
                "UPS load",
                f"upsOutputPercentLoad{{{s}}}",
                unit="percent",
                legend="{{device}} line {{upsOutputLineIndex}}",
            )
        )
        .with_panel(
            timeseries_panel(
                "UPS input voltage",
                (f"upsInputVoltage{{{s}}}", "{{device}} line {{upsInputLineIndex}}"),
                unit="volt",
            )
        )
        .with_panel(
            timeseries_panel(
                "Temperatures",
                (f"infrastrand:sensor:celsius{{{s}}}", "{{device}} {{entPhysicalName}}"),
                unit="celsius",
            )
        )
    )
    for panel in drift_panels(s):
        builder = builder.with_panel(panel)
    return builder.build()


PORT = 'device="$device", ifName=~"$interface"'
PORT_TRAFFIC = (
    (f"infrastrand:interface_in_bits:rate5m{{{PORT}}}", "in"),
    (f"infrastrand:interface_out_bits:rate5m{{{PORT}}}", "out"),
)
PORT_ERRORS = (
    (f"rate(ifInErrors{{{PORT}}}[5m])", "in errors"),
    (f"rate(ifOutErrors{{{PORT}}}[5m])", "out errors"),
    (f"rate(ifInDiscards{{{PORT}}}[5m])", "in discards"),
    (f"rate(ifOutDiscards{{{PORT}}}[5m])", "out discards"),
)


def port_panel(title: str, exprs: tuple[tuple[str, str], ...], *, unit: str) -> timeseries.Panel:
    """One panel per port of ``$interface`` (Grafana repeats it, three to a row)."""
    return (
        timeseries_panel(title, *exprs, unit=unit, span=8)
        .min(0)
        .repeat("interface")
        .repeat_direction("h")
        .max_per_row(3)
    )


def device() -> model.Dashboard:
    """One device: system information, uptime, CPU, memory, storage, sensors, interfaces."""
    d = 'device="$device"'
    return (
        base(DEVICE_UID, "Device", "One device: system, resources, sensors and interfaces, port by port.")
        .with_variable(COUNTRY)
        .with_variable(SITE)
        .with_variable(DEVICE)
        .with_variable(INTERFACE)
        .with_panel(stat_panel("Status", f"infrastrand_device_up{{{d}}}").mappings([STATUS_UP_DOWN]))
        .with_panel(stat_panel("Uptime", f"infrastrand:device_uptime:seconds{{{d}}}", unit="s"))
        .with_panel(stat_panel("Last poll", f"infrastrand:poll_age:seconds{{{d}}}", unit="s").decimals(0))
        .with_panel(stat_panel("Poll duration", f"infrastrand_poll_duration_seconds{{{d}}}", unit="s"))
        .with_panel(
            table_panel(
                "System",
                Column(f"infrastrand_device_up{{{d}}}", "Status", mapping=STATUS_UP_DOWN),
                Column(f"sysName{{{d}}}", None),
                Column(f"sysDescr{{{d}}}", None),
                Column(f"sysObjectID{{{d}}}", None),
                Column(f"sysLocation{{{d}}}", None),
                Column(f"sysContact{{{d}}}", None),
                height=6,
            )
        )
        .with_panel(
            timeseries_panel(
                "CPU load", (f"hrProcessorLoad{{{d}}}", "CPU {{hrDeviceIndex}}"), unit="percent", span=8
            )
            .min(0)
            .max(100)
        )
        .with_panel(timeseries_panel("Load average", (f"laLoad{{{d}}}", "{{laNames}}"), span=8).min(0))
        .with_panel(
            timeseries_panel(
                "Memory used", (f"infrastrand:memory_used:ratio{{{d}}}", "memory"), unit="percentunit", span=8
            )
            .min(0)
            .max(1)
        )
        .with_panel(
            bargauge_panel(
                "Storage used", f"infrastrand:storage_used:ratio{{{d}}}", "{{hrStorageDescr}}", span=12
            ).thresholds(thresholds((None, "green"), (0.8, "orange"), (0.9, "red")))
        )
        .with_panel(
            timeseries_panel(
                "Temperatures", (f"infrastrand:sensor:celsius{{{d}}}", "{{entPhysicalName}}"), unit="celsius"
            )
        )
        .with_panel(
            table_panel(
                "Sensors",
                Column(f"entPhySensorOperStatus{{{d}}}", "Status", mapping=SENSOR_STATUS),
                Column(f"entPhySensorValue{{{d}}}", "Raw value"),
                span=12,
            )
        )
        .with_panel(
            table_panel(
                "LLDP neighbours",
                Column(f"lldpRemSysName{{{d}}}", None),
                span=12,
            )
        )
        .with_panel(
            table_panel(
                "Interfaces",
                Column(f"ifOperStatus{{{d}}}", "Oper", mapping=IF_STATUS),
                Column(f"ifAdminStatus{{{d}}}", "Admin", mapping=IF_STATUS),
                Column(f"ifHighSpeed{{{d}}}", "Speed (Mbit/s)"),
                Column(f"infrastrand:interface_in_utilisation:percent{{{d}}}", "In", unit="percent"),
                Column(f"infrastrand:interface_out_utilisation:percent{{{d}}}", "Out", unit="percent"),
                height=12,
            ).data_links([data_link("Interface ${__data.fields.ifName}", INTERFACE_LINK)])
        )
        .with_panel(port_panel("Port $interface: traffic", PORT_TRAFFIC, unit="bps"))
        .with_panel(port_panel("Port $interface: errors and discards", PORT_ERRORS, unit="pps"))
        .build()
    )


def interfaces() -> model.Dashboard:
    """Interfaces of a device: traffic, utilisation, errors and discards, status over time."""
    i = 'device="$device", ifName=~"$interface"'
    return (
        base(
            INTERFACES_UID, "Interfaces", "Traffic, utilisation, errors and status of a device's interfaces."
        )
        .with_variable(COUNTRY)
        .with_variable(SITE)
        .with_variable(DEVICE)
        .with_variable(INTERFACE)
        .with_panel(
            timeseries_panel(
                "Traffic",
                (f"infrastrand:interface_in_bits:rate5m{{{i}}}", "{{ifName}} in"),
                (f"infrastrand:interface_out_bits:rate5m{{{i}}}", "{{ifName}} out"),
                unit="bps",
            )
        )
        .with_panel(
            timeseries_panel(
                "Utilisation",
                (f"infrastrand:interface_in_utilisation:percent{{{i}}}", "{{ifName}} in"),
                (f"infrastrand:interface_out_utilisation:percent{{{i}}}", "{{ifName}} out"),
                unit="percent",
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Errors and discards",
                (f"rate(ifInErrors{{{i}}}[5m])", "{{ifName}} in errors"),
                (f"rate(ifOutErrors{{{i}}}[5m])", "{{ifName}} out errors"),
                (f"rate(ifInDiscards{{{i}}}[5m])", "{{ifName}} in discards"),
                (f"rate(ifOutDiscards{{{i}}}[5m])", "{{ifName}} out discards"),
                unit="pps",
            )
        )
        .with_panel(
            timeseries_panel(
                "Error ratio",
                (f"infrastrand:interface_in_errors:ratio5m{{{i}}}", "{{ifName}} in"),
                (f"infrastrand:interface_out_errors:ratio5m{{{i}}}", "{{ifName}} out"),
                unit="percentunit",
            ).min(0)
        )
        .with_panel(state_timeline_panel("Oper status", f"ifOperStatus{{{i}}}", "{{ifName}}"))
        .with_panel(
            table_panel(
                "Details",
                Column(f"ifAdminStatus{{{i}}}", "Admin", mapping=IF_STATUS),
                Column(f"ifHighSpeed{{{i}}}", "Speed (Mbit/s)"),
                Column(f"ifMtu{{{i}}}", "MTU"),
            )
        )
        .build()
    )


def collectors() -> model.Dashboard:
    """The collectors themselves: poll duration, errors, backlog, targets and scrape cost."""
    k = 'job="infrastrand-collectors", instance=~"$collector"'
    return (
        base(COLLECTORS_UID, "Collectors", "Health and cost of the SNMP collectors.")
        .with_variable(COLLECTOR)
        .with_panel(stat_panel("Collectors up", f"sum(up{{{k}}})"))
        .with_panel(
            stat_panel("Inventory reachable", f"min(infrastrand_collector_inventory_up{{{k}}})").mappings(
                [STATUS_UP_DOWN]
            )
        )
        .with_panel(
            stat_panel(
                "Since last inventory sync",
                f"max(time() - infrastrand_collector_inventory_last_success_timestamp_seconds{{{k}}})",
                unit="s",
            ).decimals(0)
        )
        .with_panel(stat_panel("Targets from cache", f"sum(infrastrand_collector_targets_from_cache{{{k}}})"))
        .with_panel(
            timeseries_panel(
                "Poll duration",
                (
                    "histogram_quantile(0.5, sum by (le, instance) "
                    f"(rate(infrastrand_collector_poll_duration_seconds_bucket{{{k}}}[5m])))",
                    "p50 {{instance}}",
                ),
                (f"instance:infrastrand_collector_poll_duration_seconds:p95{{{k}}}", "p95 {{instance}}"),
                unit="s",
            )
        )
        .with_panel(
            timeseries_panel(
                "Polls per second by result",
                (
                    f"sum by (instance, result) (rate(infrastrand_collector_polls_total{{{k}}}[5m]))",
                    "{{instance}} {{result}}",
                ),
                unit="ops",
            )
        )
        .with_panel(
            timeseries_panel(
                "Poll error ratio",
                (f"instance:infrastrand_collector_poll_errors:ratio5m{{{k}}}", "{{instance}}"),
                unit="percentunit",
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "SNMP errors per second",
                (
                    f"sum by (instance) (rate(infrastrand_snmp_timeouts_total{{{k}}}[5m]))",
                    "{{instance}} timeouts",
                ),
                (
                    f"sum by (instance) (rate(infrastrand_snmp_retries_total{{{k}}}[5m]))",
                    "{{instance}} retries",
                ),
                (
                    f"sum by (instance, reason) (rate(infrastrand_snmp_malformed_packets_total{{{k}}}[5m]))",
                    "{{instance}} malformed {{reason}}",
                ),
                (
                    "sum by (instance, reason) "
                    f"(rate(infrastrand_snmp_unexpected_responses_total{{{k}}}[5m]))",
                    "{{instance}} unexpected {{reason}}",
                ),
                unit="ops",
            )
        )
        .with_panel(
            timeseries_panel(
                "Polls in flight",
                (f"infrastrand_collector_in_flight{{{k}}}", "{{instance}}"),
                unit="short",
                span=8,
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Scheduler lag (p95)",
                (
                    "histogram_quantile(0.95, sum by (le, instance) "
                    f"(rate(infrastrand_collector_scheduler_lag_seconds_bucket{{{k}}}[5m])))",
                    "{{instance}}",
                ),
                unit="s",
                span=8,
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Poll overruns",
                (f"instance:infrastrand_collector_poll_overruns:rate5m{{{k}}}", "{{instance}}"),
                unit="ops",
                span=8,
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Targets by state",
                (
                    f"sum by (instance, state) (infrastrand_collector_targets{{{k}}})",
                    "{{instance}} {{state}}",
                ),
                unit="short",
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Series in store",
                (f"infrastrand_collector_store_series{{{k}}}", "{{instance}}"),
                unit="short",
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Collector CPU",
                (f"rate(process_cpu_seconds_total{{{k}}}[5m])", "{{instance}}"),
                unit="percentunit",
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Collector memory (RSS)",
                (f"process_resident_memory_bytes{{{k}}}", "{{instance}}"),
                unit="bytes",
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Device scrape time (sum over devices)",
                ('sum(scrape_duration_seconds{job="infrastrand-devices"})', "scrape seconds"),
                unit="s",
            ).min(0)
        )
        .with_panel(
            timeseries_panel(
                "Samples and varbinds per round",
                ('sum(scrape_samples_scraped{job="infrastrand-devices"})', "samples per scrape round"),
                ("sum(infrastrand_poll_varbinds)", "varbinds per poll round (sum over devices)"),
                unit="short",
            ).min(0)
        )
        .with_panel(
            table_panel(
                "Slowest polls (share of the poll interval)",
                Column("topk(10, infrastrand:poll_duration_interval:ratio)", "Share", unit="percentunit"),
                span=12,
            ).data_links([data_link("Device ${__data.fields.device}", DEVICE_LINK)])
        )
        .with_panel(
            table_panel(
                "Slowest polls (seconds)",
                Column("topk(10, infrastrand_poll_duration_seconds)", "Duration", unit="s"),
                span=12,
            ).data_links([data_link("Device ${__data.fields.device}", DEVICE_LINK)])
        )
        .build()
    )


DASHBOARDS: dict[str, Callable[[], model.Dashboard]] = {
    OVERVIEW_UID: overview,
    SITE_UID: site,
    DEVICE_UID: device,
    INTERFACES_UID: interfaces,
    COLLECTORS_UID: collectors,
    AVAILABILITY_UID: strand_availability,
}
