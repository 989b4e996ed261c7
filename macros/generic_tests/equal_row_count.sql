{#- Fails when the model and `compare_model` have different row counts (grain checks). -#}
{% test equal_row_count(model, compare_model) %}

with

model_count as (
    select count(*) as row_count from {{ model }}
),

compare_count as (
    select count(*) as row_count from {{ compare_model }}
),

mismatch as (
    select
        model_count.row_count as model_row_count,
        compare_count.row_count as compare_row_count
    from model_count
    cross join compare_count
    where model_count.row_count != compare_count.row_count
)

select * from mismatch

{% endtest %}
