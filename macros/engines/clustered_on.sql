{#-
    `select ... from final {{ clustered_on('event_date') }}`: on a DuckDB full build, the
    rows written in `column` order, so that a later read of recent dates skips the older
    row groups by their min/max (zone maps) instead of scanning the whole table.
    An incremental run appends its rows at the end, grouped by their dates already, so
    it adds nothing there. Without it the full build writes rows in the order its
    window functions leave them (by visitor), and fct_sessions' day run read 15.7 of
    the 15.8 million sessionized events at SF 3 to find the 0.4 million of its window.
    Other engines: nothing. Spark partitions such tables by day; PostgreSQL has no zone
    maps on plain tables; Redshift would take a sort key (`sort` config), not an ORDER BY.
-#}
{% macro clustered_on(column) %}
{{ return(adapter.dispatch('clustered_on', 'marketplace')(column)) }}
{% endmacro %}

{% macro default__clustered_on(column) %}
{{ return('') }}
{% endmacro %}

{% macro duckdb__clustered_on(column) %}
{{ return('' if is_incremental() else 'order by ' ~ column) }}
{% endmacro %}
