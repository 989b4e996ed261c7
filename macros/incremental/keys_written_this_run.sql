{#-
    For a singular test that checks whole entities (an order and its lines, a customer and
    their orders): the SELECT of the `key` of every row this run wrote in any of
    `relations` (its `column` above the boundary remembered for that relation,
    rows_of_this_run_predicate.sql), joined by UNION. None with `tests_scope: all`, or when
    a relation has no boundary: the test then checks every entity.
-#}
{% macro keys_written_this_run(key, relations, column='updated_at') %}
{%- set selects = [] -%}
{%- for relation in relations -%}
{%- set predicate = rows_of_this_run_predicate(relation, column) -%}
{%- if predicate == '1 = 1' -%}{{ return(none) }}{%- endif -%}
{%- do selects.append('select ' ~ key ~ ' from ' ~ relation ~ '\n    where ' ~ predicate) -%}
{%- endfor -%}
{{ return(selects | join('\n    union\n    ')) }}
{%- endmacro %}
