{#-
    Fails on every row where `expression` is not true: the invariant check that
    dbt_utils.expression_is_true provides, written here because dbt packages cannot be
    installed offline. Attach it to a model (the expression may use any column) or to a
    column (the expression is appended to the column name, e.g. ">= 0").
-#}
{% test expression_is_true(model, expression, column_name=none) %}

with

model_rows as (
    select * from {{ model }}
),

violations as (
    select *
    from model_rows
    {% if column_name is none -%}
        where not coalesce(({{ expression }}), false)
    {%- else -%}
        where not coalesce(({{ column_name }} {{ expression }}), false)
    {%- endif %}
)

select * from violations

{% endtest %}
