{#-
    CTE `<as>` (and `<as>_start` on an incremental run): on an incremental run, the rows of
    `rows_cte` whose `date_column` lies within the clickstream lookback
    (`clickstream_lookback_days`, for late events) plus one day (a visit crossing
    midnight) before the newest date already built; on a full build, all of them. Pair it
    with unique_key=`date_column` and delete+insert, so the dates in the window are rebuilt
    whole.

    Example: `{{ rows_in_lookback_window('events', 'session_date', as='events_in_window') }}`.
-#}
{% macro rows_in_lookback_window(rows_cte, date_column, as) %}
{%- set lookback_days = integer_var('clickstream_lookback_days', 0, 365) -%}
{%- if is_incremental() %}
{{ as }}_start as (
    select
        {{ dbt.dateadd('day', '-1 - ' ~ lookback_days, 'max(' ~ date_column ~ ')') }}
            as rebuild_from
    from {{ this }}
),

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
