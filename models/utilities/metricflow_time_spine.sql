-- One row per day, the calendar MetricFlow joins metrics to (metric_time). It spans the
-- TPC-H order history and the simulated clock's years ahead. The days are counted out
-- from five digits (up to 99,999 days) rather than with dbt.date_spine, whose row count
-- is computed by a query at compile time that Redshift's and Athena's compile runs (and
-- their stand-ins in the tests) cannot answer.
{{ config(materialized='table') }}

with digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

day_numbers as (

    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_number
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select
        cast({{ dbt.dateadd('day', 'day_number', "cast('1992-01-01' as date)") }} as date)
            as date_day
    from day_numbers

)

select date_day
from days
where date_day < cast('2031-01-01' as date)
