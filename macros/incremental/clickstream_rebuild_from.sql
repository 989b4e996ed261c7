{#-
    The first date that an incremental run of a clickstream model rebuilds (delete+insert
    by `date_column`), as 'YYYY-MM-DD' text, read from the warehouse when the model runs:
    `days_back` days before the newest `date_column` already built in `relation` (events
    arrive up to `clickstream_lookback_days` late), or earlier when events landed since
    then that happened before that: from the day of the oldest of them, less
    `late_days_back` days (a visit crossing midnight into that day started the day
    before). Late events are rare but have no limit (a phone offline for a week, a
    backlog replayed), and a date they miss stays wrong until a --full-refresh.
    None when `relation` holds no row (rebuild everything).

    `landed_events` is stg_clickstream__events (`event_date`, and `landed_date`, the day
    its file arrived). Files that arrive after a run land on the newest date built or
    later, so an event is new if it landed then or since.

    The models compare with the date as a literal, not with a subquery, so that DuckDB
    reads only the lake's `event_date=` folders from that date on, and Parquet's min/max
    of `landed_date` skip the old files here (with the subquery it read every event:
    int_clickstream_events_sessionized took 4.8 s of a day's build at SF 3, now 0.8 s).

    In a unit test `relation` and `landed_events` are the names of its fixtures' CTEs,
    which no query of its own can read: it returns the same date as a scalar subquery.

    Example: `{%- set rebuild_from = clickstream_rebuild_from(this, 'event_date', ref('stg_clickstream__events'), 3, 0) -%}`,
    then `where event_date >= {{ date_literal(rebuild_from) }}`.
-#}
{% macro clickstream_rebuild_from(
    relation, date_column, landed_events, days_back, late_days_back
) %}
{%- if relation is string -%}
{%- set subquery -%}
(
    select
        -- coalesce: Trino's least (Athena) is null if any argument is
        least(
            {{ dbt.dateadd('day', -days_back, 'built.built_through') }},
            coalesce(
                {{ dbt.dateadd('day', -late_days_back, 'min(landed.event_date)') }},
                built.built_through
            )
        )
    from (select max({{ date_column }}) as built_through from {{ relation }}) as built
    left join {{ landed_events }} as landed
        on landed.landed_date >= built.built_through
    group by built.built_through
)
{%- endset -%}
{{ return(subquery) }}
{%- endif -%}
{%- set built = clickstream_built_through(relation, date_column) -%}
{%- if built is none -%}{{ return(none) }}{%- endif -%}
{%- set built_through = modules.datetime.date.fromisoformat(built) -%}
{%- set landed = run_query(
    'select min(event_date) from ' ~ landed_events
    ~ " where landed_date >= cast('" ~ built_through ~ "' as date)"
).columns[0].values()[0] -%}
{%- set rebuild_from = built_through - modules.datetime.timedelta(days=days_back) -%}
{%- if landed is not none -%}
{%- set late = modules.datetime.date.fromisoformat((landed | string)[:10])
    - modules.datetime.timedelta(days=late_days_back) -%}
{%- set rebuild_from = [rebuild_from, late] | min -%}
{%- endif -%}
{{ return(rebuild_from.isoformat()) }}
{%- endmacro %}

{#-
    The newest `date_column` already built in `relation`, as 'YYYY-MM-DD' text; none when
    it holds no row (or at parse time). Events that landed on that day or since are new
    to the model (clickstream_rebuild_from). In a unit test (`relation` is a fixture's
    CTE name), the same date as a scalar subquery.
-#}
{% macro clickstream_built_through(relation, date_column) %}
{%- if relation is string -%}
{{ return('(select max(' ~ date_column ~ ') from ' ~ relation ~ ')') }}
{%- endif -%}
{%- if not execute -%}{{ return(none) }}{%- endif -%}
{%- set built_query = 'select max(' ~ date_column ~ ') from ' ~ relation -%}
{%- set built = run_query(built_query).columns[0].values()[0] -%}
{{ return(none if built is none else (built | string)[:10]) }}
{%- endmacro %}

{#-
    A date from clickstream_rebuild_from, less `days_before` days, as SQL: a literal for
    text 'YYYY-MM-DD', else the date of its subquery (in a unit test).
-#}
{% macro date_literal(date, days_before=0) %}
{%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', date) -%}
{{ return('cast(' ~ dbt.dateadd('day', -days_before, date) ~ ' as date)') }}
{%- endif -%}
{%- set value = modules.datetime.date.fromisoformat(date)
    - modules.datetime.timedelta(days=days_before) -%}
{{ return("cast('" ~ value.isoformat() ~ "' as date)") }}
{%- endmacro %}
