{#-
    CTE `<as>` (and `<as>_start`, whose `rebuild_from` is the first date rebuilt, on an
    incremental run): on an incremental run, the rows of `rows_cte` whose `date_column`
    lies within the clickstream lookback (`clickstream_lookback_days`, for late events)
    plus one day (a visit crossing midnight) before the newest date already built, or
    from the day before the oldest event that landed since, if that is earlier
    (clickstream_rebuild_from.sql; `landed_events` is stg_clickstream__events); on a full
    build, all of them. Pair it with unique_key=`date_column` and delete+insert, so the
    dates in the window are rebuilt whole.

    Example: `{{ rows_in_lookback_window('events', 'session_date', ref('stg_clickstream__events'), as='events_in_window') }}`.
-#}
{% macro rows_in_lookback_window(rows_cte, date_column, landed_events, as) %}
{%- set lookback_days = integer_var('clickstream_lookback_days', 0, 365) -%}
{%- if is_incremental() %}
{{ clickstream_rebuild_from(date_column, landed_events, 1 + lookback_days, 1, as=as ~ '_start') }},

{{ as }} as (
    select {{ rows_cte }}.*
    from {{ rows_cte }}
    cross join {{ as }}_start
    where {{ rows_cte }}.{{ date_column }} >= {{ as }}_start.rebuild_from
)
{%- else %}
{{ as }} as (
    select * from {{ rows_cte }}
)
{%- endif %}
{%- endmacro %}
