{#-
    CTE `<as>`, one row with `rebuild_from`: the first date that an incremental run of a
    clickstream model rebuilds (delete+insert by `date_column`). It is `days_back` days
    before the newest `date_column` already built (events arrive up to
    `clickstream_lookback_days` late), or earlier when events landed since then that
    happened before that: from the day of the oldest of them, less `late_days_back` days
    (a visit crossing midnight into that day started the day before). Late events are
    rare but have no limit (a phone offline for a week, a backlog replayed), and a date
    they miss stays wrong until a --full-refresh.

    `landed_events` has the events with `event_date` and `landed_date` (the day their
    file arrived), as stg_clickstream__events. Files that arrive after a run land on the
    newest date built or later, so an event is new if it landed then or since. Reading
    `landed_date` scans one column; Parquet's min/max statistics skip the old files.

    Example: `{{ clickstream_rebuild_from('event_date', 'events', 3, 0, as='window_start') }}`.
-#}
{% macro clickstream_rebuild_from(date_column, landed_events, days_back, late_days_back, as) %}
{{ as }}_built as (
    select max({{ date_column }}) as built_through
    from {{ this }}
),

{{ as }}_landed as (
    select min(landed_events.event_date) as first_event_date
    from {{ landed_events }} as landed_events
    cross join {{ as }}_built
    where landed_events.landed_date >= {{ as }}_built.built_through
),

{{ as }} as (
    select
        -- coalesce: Trino's least (Athena) is null if any argument is
        least(
            {{ dbt.dateadd('day', -days_back, as ~ '_built.built_through') }},
            coalesce(
                {{ dbt.dateadd('day', -late_days_back, as ~ '_landed.first_event_date') }},
                {{ as }}_built.built_through
            )
        ) as rebuild_from
    from {{ as }}_built
    cross join {{ as }}_landed
)
{%- endmacro %}
