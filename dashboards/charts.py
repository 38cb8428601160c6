"""The dashboard's Altair charts: trends with the rollout marked, cohort heatmaps, stacked bars."""

from __future__ import annotations

import altair as alt
import pandas as pd

MONTH_AXIS = alt.Axis(format="%Y-%m", title=None, labelAngle=-45)
CATEGORIES = alt.Scale(scheme="tableau10")  # distinct hues: Streamlit's default shades of blue blur together
# R10's month status, ordered by severity: greens for paid, oranges to reds as months past due grow,
# grey for nothing due and closed; 11 codes, each its own colour (a 10-colour scheme repeats one).
MONTH_STATUS = alt.Scale(
    domain=["N", "M", "*", "1", "2", "3", "4", "5", "6", "7", "C"],
    range=[
        "#2ca02c", "#98df8a", "#c7c7c7", "#fdd0a2", "#fdae6b", "#fd8d3c",
        "#f16913", "#d94801", "#a63603", "#7f2704", "#636363",
    ],
)  # fmt: skip


def trend(
    data: pd.DataFrame,
    y: str,
    color: str,
    y_title: str,
    y_format: str = ".0%",
    rollout_month: pd.Timestamp | None = None,
    stroke_dash: str | None = None,
    color_sort: list | None = None,
    dash_sort: list | None = None,
) -> alt.LayerChart | alt.Chart:
    """Lines over `month`, one per `color` (and `stroke_dash`: solid for the first of `dash_sort`,
    dashed for the second) value; a rule at the rollout month."""
    encoding = {
        "x": alt.X("month:T", axis=MONTH_AXIS),
        "y": alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
        "color": alt.Color(f"{color}:N", title=None, sort=color_sort, scale=CATEGORIES),
        "tooltip": [
            alt.Tooltip("month:T", format="%Y-%m"),
            alt.Tooltip(f"{color}:N"),
            alt.Tooltip(f"{y}:Q", format=y_format),
        ],
    }
    if stroke_dash:  # no legend: Vega draws its entries as the lines' points, identical dots; the caller says it
        encoding["strokeDash"] = alt.StrokeDash(f"{stroke_dash}:N", title=None, legend=None, sort=dash_sort)
        encoding["tooltip"].append(alt.Tooltip(f"{stroke_dash}:N"))
    lines = alt.Chart(data).mark_line(point=True).encode(**encoding)
    if rollout_month is None:
        return lines
    marker = pd.DataFrame({"month": [rollout_month], "label": ["rollout starts"]})
    rule = alt.Chart(marker).mark_rule(strokeDash=[4, 4], color="gray").encode(x="month:T")
    text = (
        alt.Chart(marker)
        .mark_text(align="left", dx=4, dy=-6, color="gray")
        .encode(x="month:T", y=alt.value(8), text="label:N")
    )
    return alt.layer(lines, rule, text)


def heatmap(data: pd.DataFrame, cohort: str, value: str, value_title: str, cohort_sort: list) -> alt.Chart:
    """Cohort × month, coloured by a rate."""
    return (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("yearmonth(month):O", title=None, axis=alt.Axis(format="%Y-%m", labelAngle=-45)),
            y=alt.Y(f"{cohort}:N", title=None, sort=cohort_sort),
            color=alt.Color(
                f"{value}:Q",
                title=value_title,
                scale=alt.Scale(scheme="blues", domain=[0, 1]),
                legend=alt.Legend(format=".0%"),
            ),
            tooltip=[
                alt.Tooltip("month:T", format="%Y-%m"),
                alt.Tooltip(f"{cohort}:N"),
                alt.Tooltip(f"{value}:Q", format=".1%", title=value_title),
            ],
        )
    )


def stacked_bars(
    data: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    y_title: str,
    normalize: bool = False,
    color_sort=None,
    scale: alt.Scale = CATEGORIES,
) -> alt.Chart:
    """Bars per month stacked by a category; `normalize` shows shares instead of counts."""
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"yearmonth({x}):O", title=None, axis=alt.Axis(format="%Y-%m", labelAngle=-45)),
            y=alt.Y(
                f"sum({y}):Q",
                title=y_title,
                stack="normalize" if normalize else "zero",
                axis=alt.Axis(format=".0%" if normalize else ",.0f"),
            ),
            color=alt.Color(f"{color}:N", title=None, sort=color_sort, scale=scale),
            order=alt.Order(f"{color}:N"),
            tooltip=[
                alt.Tooltip(f"{x}:T", format="%Y-%m"),
                alt.Tooltip(f"{color}:N"),
                alt.Tooltip(f"sum({y}):Q", format=","),
            ],
        )
    )


def projection(data: pd.DataFrame, cohort_sort: list) -> alt.LayerChart:
    """Coverage so far (solid) and projected (dashed, its low-high band shaded), one colour per cohort."""
    color = alt.Color("cohort:N", title=None, sort=cohort_sort, scale=CATEGORIES)
    x = alt.X("month:T", axis=MONTH_AXIS)
    tooltip = [
        alt.Tooltip("month:T", format="%Y-%m"),
        alt.Tooltip("cohort:N"),
        alt.Tooltip("kind:N"),
        alt.Tooltip("account_coverage:Q", format=".1%", title="coverage"),
    ]
    so_far = data[data.kind == "so far"]
    projected = data[data.kind == "projected"]
    band = (
        alt.Chart(projected)
        .mark_area(opacity=0.2)
        .encode(
            x=x,
            y=alt.Y("account_coverage_low:Q", title="Share of accounts reported", axis=alt.Axis(format=".0%")),
            y2="account_coverage_high:Q",
            color=color,
            tooltip=[
                *tooltip[:2],
                alt.Tooltip("account_coverage_low:Q", format=".1%", title="low"),
                alt.Tooltip("account_coverage_high:Q", format=".1%", title="high"),
            ],
        )
    )
    lines = [
        alt.Chart(part)
        .mark_line(point=True, strokeDash=dash)
        .encode(x=x, y=alt.Y("account_coverage:Q", axis=alt.Axis(format=".0%")), color=color, tooltip=tooltip)
        for part, dash in ((so_far, [1, 0]), (projected, [6, 4]))
    ]
    return alt.layer(band, *lines)
