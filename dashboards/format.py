"""Numbers as people read them: thousands separators, dollars, percentages.

Everything the dashboard shows goes through these, so a page never prints 1234567.891.
A missing value (no rows yet, a rate over nothing) shows as an en dash.
"""

from __future__ import annotations

MISSING = "–"


def count(value: float | None) -> str:
    """14797 → "14,797"."""
    return MISSING if value is None else f"{round(value):,}"


def money(value: float | None) -> str:
    """1234567.891 → "$1,234,567.89"; -5 → "-$5.00"."""
    if value is None:
        return MISSING
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A share from 0 to 1: 0.1234 → "12.3%"."""
    return MISSING if value is None else f"{value * 100:,.{digits}f}%"


def days(value: float | None) -> str:
    """15.36 → "15.4 days"."""
    return MISSING if value is None else f"{value:,.1f} days"
