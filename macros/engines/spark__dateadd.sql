{#-
    Overrides dbt-spark's dateadd (the root project's macro wins). Its version goes
    through to_unix_timestamp, which drops fractions of a second: event_at + 30 minutes
    came out up to 999 ms early on Spark, and a visit that DuckDB, PostgreSQL and
    Redshift keep whole was cut in two. timestampadd keeps microseconds. Like dbt-spark's,
    it returns a timestamp, also for a date.
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) %}
{%- set units = {'microsecond': 'MICROSECOND', 'millisecond': 'MILLISECOND', 'second': 'SECOND',
    'minute': 'MINUTE', 'hour': 'HOUR', 'day': 'DAY', 'week': 'WEEK', 'month': 'MONTH',
    'quarter': 'QUARTER', 'year': 'YEAR'} -%}
{%- if datepart not in units -%}
{{ exceptions.raise_compiler_error("dateadd: no datepart '" ~ datepart ~ "' on Spark") }}
{%- endif -%}
timestampadd({{ units[datepart] }}, cast({{ interval }} as bigint), cast({{ from_date_or_timestamp }} as timestamp))
{%- endmacro %}
