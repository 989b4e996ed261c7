"""What every page shares: the read-only warehouse, cached queries, metric rows and charts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from dashboards import metrics, queries
from ingestion.settings import load_settings

BUILD_HINT = "run `make demo` first (or `make build` after `make sources ingest process`)"
# The dbt project, against which dbt resolves a relative DBT_TARGET_PATH.
PROJECT_DIR = Path(__file__).resolve().parents[2]


def warehouse_path() -> Path:
    return load_settings().warehouse_path


def semantic_manifest_path() -> Path:
    """dbt writes it beside the manifest when it parses (``make build`` does)."""
    return PROJECT_DIR / load_settings().dbt_target_path / "semantic_manifest.json"


def _version(path: Path) -> float:
    """Changes when the file does, so a rebuild refreshes the cached results."""
    return path.stat().st_mtime if path.exists() else 0.0


def _require(path: Path) -> None:
    if not path.exists():
        st.error(f"No warehouse at {path}: nothing has been built yet; {BUILD_HINT}.")
        st.stop()


def _stop_on(exc: duckdb.Error, path: Path) -> None:
    if isinstance(exc, duckdb.CatalogException):
        st.error(f"The warehouse {path} lacks a mart this page reads; {BUILD_HINT}. ({exc})")
    else:
        st.error(f"Could not read the warehouse {path} (is a dbt build writing it?); reload when it is done. ({exc})")
    st.stop()


# Connections are opened per query, read-only, so that a `dbt build` can take the file
# between reruns; results are cached until the warehouse file changes.
@st.cache_data(show_spinner=False, max_entries=64)
def _query(name: str, path: str, version: float, args: tuple) -> pd.DataFrame:
    with duckdb.connect(path, read_only=True) as con:
        return getattr(queries, name)(con, *args)


def query(fn: Callable[..., pd.DataFrame], *args) -> pd.DataFrame:
    """Run one of dashboards.queries on the warehouse."""
    path = warehouse_path()
    _require(path)
    try:
        return _query(fn.__name__, str(path), _version(path), args)
    except duckdb.Error as exc:
        _stop_on(exc, path)


@st.cache_data(show_spinner=False, max_entries=8)
def _headline(path: str, version: float, manifest: str, manifest_version: float) -> dict[str, float | None]:
    with duckdb.connect(path, read_only=True) as con:
        return metrics.headline(con, Path(manifest))


def headline() -> dict[str, float | None] | None:
    """The semantic layer's headline metrics, or None (after saying why) without a semantic manifest."""
    path = warehouse_path()
    _require(path)
    manifest = semantic_manifest_path()
    if not manifest.exists():
        st.warning(
            f"No semantic manifest at {manifest}: the headline metrics come from the dbt semantic layer, "
            "which `dbt parse` writes there (`make build` does). Set DBT_TARGET_PATH if your build writes "
            "its artifacts elsewhere."
        )
        return None
    try:
        return _headline(str(path), _version(path), str(manifest), _version(manifest))
    except duckdb.Error as exc:
        _stop_on(exc, path)


def metric_row(items: Sequence[tuple[str, str]], help: dict[str, str] | None = None, per_row: int = 4) -> None:
    """``st.metric``s, at most ``per_row`` a row: (label, value already formatted for people)."""
    for start in range(0, len(items), per_row):
        row = items[start : start + per_row]
        for column, (label, value) in zip(st.columns(per_row), row, strict=False):
            column.metric(label, value, help=(help or {}).get(label))


def table(frame: pd.DataFrame, formats: dict[str, Callable[[float], str]], names: dict[str, str]) -> None:
    """A static table (text on the page, not a canvas): columns renamed, numbers formatted."""
    shown = frame[list(names)].copy()
    for column, fmt in formats.items():
        shown[column] = [fmt(None if pd.isna(value) else value) for value in shown[column]]
    st.table(shown.rename(columns=names), hide_index=True)


def chart(spec: alt.Chart, height: int = 320) -> None:
    """An Altair chart drawn as SVG, so its axis titles are text on the page (and in screenshots)."""
    spec = spec.properties(height=height, usermeta={"embedOptions": {"renderer": "svg"}})
    st.altair_chart(spec, width="stretch")


def caption_from(*marts: str) -> None:
    st.caption("From " + ", ".join(f"`{mart}`" for mart in marts) + " in the warehouse (read-only).")
