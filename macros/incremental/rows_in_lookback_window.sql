{#-
    CTE `<rows_cte>_in_window`: on an incremental run, the rows of `rows_cte` whose
    `date_column` lies within the clickstream lookback (`clickstream_lookback_days`, for
    late events) plus one day (a visit crossing midnight) before the newest date already
    built; on a full build, all of them. Pair it with unique_key=`date_column` and
    delete+insert, so the dates in the window are rebuilt whole.
-#}
{% macro rows_in_lookback_window(rows_cte, date_column) %}
{%- if is_incremental() %}
window_start as (
    select
        {{ dbt.dateadd('day', '-1 - ' ~ var('clickstream_lookback_days'), 'max(' ~ date_column ~ ')') }}
            as rebuild_from
    from {{ this }}
),

{{ rows_cte }}_in_window as (
    select {{ rows_cte }}.*
    from {{ rows_cte }}
    cross join window_start
    where {{ rows_cte }}.{{ date_column }} >= window_start.rebuild_from
)
{%- else %}
{{ rows_cte }}_in_window as (
    select * from {{ rows_cte }}
)
{%- endif %}
{%- endmacro %}
