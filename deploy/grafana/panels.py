"""Small helpers over grafana-foundation-sdk builders: queries, variables, links and common panels."""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import (
    bargauge,
    dashboard,
    prometheus,
    stat,
    statetimeline,
    table,
    timeseries,
)
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model

DATASOURCE_UID = "infrastrand-prometheus"
DATASOURCE_NAME = "infrastrand Prometheus"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
TAG = "infrastrand"

# Dashboard uids: the URL of a device's dashboard is /d/infrastrand-device/device?var-device=<name>.
OVERVIEW_UID = "infrastrand-overview"
SITE_UID = "infrastrand-site"
DEVICE_UID = "infrastrand-device"
INTERFACES_UID = "infrastrand-interfaces"
COLLECTORS_UID = "infrastrand-collectors"

DEVICE_LINK = f"/d/{DEVICE_UID}/device?var-device=${{__data.fields.device}}&${{__url_time_range}}"
INTERFACE_LINK = (
    f"/d/{INTERFACES_UID}/interfaces?var-device=${{__data.fields.device}}"
    "&var-interface=${__data.fields.ifName}&${__url_time_range}"
)
SITE_LINK = f"/d/{SITE_UID}/site?var-site=${{__data.fields.site}}&${{__url_time_range}}"

LETTERS = "ABCDEFGHIJ"

STATUS_UP_DOWN = model.ValueMap(
    options={
        "1": model.ValueMappingResult(text="up", color="green", index=0),
        "0": model.ValueMappingResult(text="down", color="red", index=1),
    }
)
# IF-MIB ifOperStatus / ifAdminStatus.
IF_STATUS = model.ValueMap(
    options={
        "1": model.ValueMappingResult(text="up", color="green", index=0),
        "2": model.ValueMappingResult(text="down", color="red", index=1),
        "3": model.ValueMappingResult(text="testing", color="blue", index=2),
        "4": model.ValueMappingResult(text="unknown", color="purple", index=3),
        "5": model.ValueMappingResult(text="dormant", color="yellow", index=4),
        "6": model.ValueMappingResult(text="notPresent", color="orange", index=5),
        "7": model.ValueMappingResult(text="lowerLayerDown", color="red", index=6),
    }
)
# UPS-MIB upsOutputSource.
UPS_SOURCE = model.ValueMap(
    options={
        "1": model.ValueMappingResult(text="other", color="purple", index=0),
        "2": model.ValueMappingResult(text="none", color="red", index=1),
        "3": model.ValueMappingResult(text="normal", color="green", index=2),
        "4": model.ValueMappingResult(text="bypass", color="orange", index=3),
        "5": model.ValueMappingResult(text="battery", color="red", index=4),
        "6": model.ValueMappingResult(text="booster", color="yellow", index=5),
        "7": model.ValueMappingResult(text="reducer", color="yellow", index=6),
    }
)
# ENTITY-SENSOR-MIB entPhySensorOperStatus.
SENSOR_STATUS = model.ValueMap(
    options={
        "1": model.ValueMappingResult(text="ok", color="green", index=0),
        "2": model.ValueMappingResult(text="unavailable", color="orange", index=1),
        "3": model.ValueMappingResult(text="nonoperational", color="red", index=2),
    }
)


def query(expr: str, legend: str = "", *, ref: str = "A", instant: bool = False) -> prometheus.Dataquery:
    """A Prometheus query on the provisioned datasource; instant queries come back as a table."""
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    return q.instant().format(prometheus_model.PromQueryFormat.TABLE) if instant else q.range()


def queries(*exprs: tuple[str, str], instant: bool = False) -> list[prometheus.Dataquery]:
    """Several (expr, legend) queries with refIds A, B, C…"""
    return [query(e, legend, ref=LETTERS[i], instant=instant) for i, (e, legend) in enumerate(exprs)]


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in steps])
    )


AVAILABILITY_THRESHOLDS = thresholds((None, "red"), (0.5, "orange"), (0.99, "green"))


def label_variable(
    name: str, label: str, query_text: str, *, multi: bool = True, include_all: bool = True
) -> dashboard.QueryVariable:
    """A variable listing the values of one label: ``label_values(<selector>, <label>)``."""
    var = (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query({"query": query_text, "refId": "PrometheusVariableQueryEditor-VariableQuery"})
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(include_all)
    )
    if include_all:
        var = var.all_value(".*")
    return var


def dashboards_link() -> dashboard.DashboardLink:
    """The dropdown of every infrastrand dashboard, carrying the time range and variables."""
    return (
        dashboard.DashboardLink("infrastrand")
        .type(model.DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .as_dropdown(True)
        .include_vars(True)
        .keep_time(True)
    )


def data_link(title: str, url: str) -> dashboard.DashboardLink:
    """A link from a table cell or series to another dashboard."""
    return dashboard.DashboardLink(title).type(model.DashboardLinkType.LINK).url(url)


def base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .editable()
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("browser")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .link(dashboards_link())
    )


def stat_panel(title: str, expr: str, *, unit: str = "none", legend: str = "") -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend))
        .unit(unit)
        .height(4)
        .span(6)
    )


def timeseries_panel(
    title: str, *exprs: tuple[str, str], unit: str = "none", span: int = 12
) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit).height(8).span(span)
    return panel.targets(queries(*exprs))


@dataclass(frozen=True)
class Column:
    """One query of a table: its value column's title (None hides it: info series of value 1),
    unit and value mapping (applied to this column only)."""

    expr: str
    title: str | None
    unit: str = ""
    mapping: model.ValueMap | None = None


def table_panel(title: str, *columns: Column, span: int = 24, height: int = 8) -> table.Panel:
    """An instant table; several queries are merged into one row per label set."""
    panel = table.Panel().title(title).datasource(DATASOURCE).height(height).span(span)
    panel = panel.targets(queries(*((c.expr, "") for c in columns), instant=True))
    if len(columns) > 1:
        panel = panel.with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
    exclude = {"Time": True, "job": True, "instance": True, "__name__": True}
    rename = {}
    for index, column in enumerate(columns):
        value = "Value" if len(columns) == 1 else f"Value #{LETTERS[index]}"
        if column.title is None:
            exclude[value] = True
            continue
        rename[value] = column.title
        properties = []
        if column.unit:
            properties.append(model.DynamicConfigValue(id_val="unit", value=column.unit))
        if column.mapping is not None:
            properties.append(model.DynamicConfigValue(id_val="mappings", value=[column.mapping]))
        if properties:
            panel = panel.override_by_name(column.title, properties)
    return panel.with_transformation(
        model.DataTransformerConfig(
            id_val="organize", options={"excludeByName": exclude, "renameByName": rename}
        )
    )


def bargauge_panel(
    title: str, expr: str, legend: str, *, unit: str = "percentunit", span: int = 8
) -> bargauge.Panel:
    return (
        bargauge.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend))
        .unit(unit)
        .min(0)
        .max(1 if unit == "percentunit" else 100)
        .thresholds(AVAILABILITY_THRESHOLDS)
        .height(8)
        .span(span)
    )


def state_timeline_panel(title: str, expr: str, legend: str) -> statetimeline.Panel:
    return (
        statetimeline.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend))
        .mappings([IF_STATUS])
        .height(8)
        .span(24)
    )
