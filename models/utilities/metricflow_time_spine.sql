-- One row per day, the calendar MetricFlow joins metrics to (metric_time). It spans the
-- TPC-H order history and the simulated clock's years ahead.
{{ config(materialized='table') }}

with days as (

    {{ dbt.date_spine('day', "cast('1992-01-01' as date)", "cast('2031-01-01' as date)") }}

)

select cast(date_day as date) as date_day
from days
