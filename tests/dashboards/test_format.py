"""Numbers as the dashboard writes them."""

from __future__ import annotations

import pytest

from dashboards import format


@pytest.mark.parametrize(
    ("fmt", "value", "text"),
    [
        (format.money, 1234567.891, "$1,234,567.89"),
        (format.money, 0.005, "$0.01"),
        (format.money, -5, "-$5.00"),
        (format.count, 14797, "14,797"),
        (format.count, 14797.0, "14,797"),
        (format.percent, 0.1234, "12.3%"),
        (format.percent, 0.00090, "0.1%"),
        (format.days, 15.3625, "15.4 days"),
        (format.money, None, "–"),
        (format.percent, None, "–"),
    ],
    ids=[
        "money",
        "money-cent",
        "money-negative",
        "count",
        "count-float",
        "percent",
        "percent-small",
        "days",
        "money-missing",
        "percent-missing",
    ],
)
def test_formats(fmt, value, text):
    assert fmt(value) == text


def test_percent_digits():
    assert format.percent(0.000900, 2) == "0.09%"
