{#-
    The `where` that limits a data test of an incremental model to the rows this run
    wrote, when dbt runs with `--vars '{tests_scope: run}'` (`make run`, the daily job);
    with `tests_scope: all` (the default, `make build`) the test checks every row:

        config:
          where: "__rows_of_this_run__(updated_at)"

    (or "order_count > 0 and __rows_of_this_run__(updated_at)"). A text marker, not a
    macro call: dbt renders test configs before project macros exist. The column is the
    model's watermark, a timestamp that an incremental run only raises on the rows it
    writes (`_loaded_at` in staging, `updated_at` in the marts). When the test runs,
    get_where_subquery.sql replaces the marker with `column > <the model's newest value
    before this run began>`, read from the run-scope table (remember_run_scope.sql). A
    model the run creates, a --full-refresh run or no recorded boundary: every row. On a
    relationships test it limits the children (the model tested), never the parents.
-#}
{% macro run_scope_marker() %}
{{ return('__rows_of_this_run__') }}
{%- endmacro %}

{#-
    The clickstream's marker: `__event_dates_of_this_run__(column)` limits a test, with
    `tests_scope: run`, to the rows whose `column` (an event or session date) is on or
    after the first event date this run rebuilds, which remember_run_scope.sql records
    from int_clickstream_events_sessionized (clickstream_rebuild_from.sql). Every event
    processed since the last build lies there, so it also scopes the lake's tests (the
    `clickstream.events` source and stg_clickstream__events) to what the job wrote since,
    plus the days rebuilt for late events; `tests_scope: all` or no boundary: every row.
-#}
{% macro event_dates_marker() %}
{{ return('__event_dates_of_this_run__') }}
{%- endmacro %}
