{%- set lookback_days = integer_var('clickstream_lookback_days', 0, 365) -%}

{{
    config(
        materialized='incremental',
        unique_key='visitor_id',
        window_column='event_date',
        incremental_strategy=visitor_incremental_strategy(),
        partition_by=spark_partition_by('event_date'),
    )
}}

{%- set rebuild_from = clickstream_rebuild_from(
    this, 'event_date', ref('stg_clickstream__events'), lookback_days, 0
) if is_incremental() else none -%}
{#- Only the visitors with events that landed since the last run, where the strategy
    replaces rows by visitor (visitor_incremental_strategy.sql); on Spark every visitor,
    since it overwrites whole dates. -#}
{%- set landed_since = clickstream_built_through(this, 'event_date')
    if rebuild_from is not none and visitor_incremental_strategy() == 'visitor_window'
    else none -%}

with

-- Read twice on an incremental run (the window, and who landed since): inlined in each.
events as {{ not_materialized() }} (
    select * from {{ ref('stg_clickstream__events') }}
),

-- Events arrive up to 3 days late: rebuild the last 3 event dates already built, or from
-- the day of the oldest event that landed since, when it is older (later than the
-- lookback: clickstream_rebuild_from.sql); read one day more so that a visit crossing
-- midnight into the window keeps its true start. A visit depends on its visitor's events
-- alone: the other visitors' rows in the window stay as they are.
events_in_window as (
    select *
    from events
    {%- if rebuild_from is not none %}
    where
        event_date >= {{ date_literal(rebuild_from, days_before=1) }}
        {%- if landed_since is not none %}
        and visitor_id in (
            select visitor_id
            from events
            where landed_date >= {{ date_literal(landed_since) }}
        )
        {%- endif %}
    {%- endif %}
),

with_previous as (
    select
        *,
        lag(event_at) over (
            partition by visitor_id
            order by event_at, event_id
        ) as previous_event_at
    from events_in_window
),

-- A visit ends after 30 minutes without an event from the same visitor.
flagged as (
    select
        *,
        coalesce(
            event_at > {{ dbt.dateadd('minute', 30, 'previous_event_at') }}, true
        ) as is_session_start
    from with_previous
),

-- A visit's number and its start, in one pass over each visitor's events: the start is the
-- latest session start up to this event (events are in time order, so it is the visit's
-- earliest). Both use the same window, so DuckDB sorts the events once for them; a third
-- window over (visitor, visit) cost another sort, 12% of this model's full refresh at
-- SF 3. The window is spelled out twice: Redshift takes no named WINDOW clause.
started as (
    select
        *,
        sum(case when is_session_start then 1 else 0 end) over (
            partition by visitor_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as visitor_session_number,
        max(case when is_session_start then event_at end) over (
            partition by visitor_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_started_at
    from flagged
),

sessionized as (
    select
        started.event_id,
        {{ surrogate_key(['started.visitor_id', 'started.session_started_at']) }} as session_id,
        started.session_started_at,
        cast(started.session_started_at as date) as session_date,
        started.event_type,
        started.event_at,
        started.event_date,
        started.visitor_id,
        started.customer_id,
        started.part_id,
        started.order_id,
        started.device,
        started.is_session_start
    from started
    {%- if rebuild_from is not none %}
    where started.event_date >= {{ date_literal(rebuild_from) }}
    {%- endif %}
)

select * from sessionized
{{ clustered_on('event_date') }}
