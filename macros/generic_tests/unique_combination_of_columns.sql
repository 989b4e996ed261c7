{#- Fails for every combination of `combination_of_columns` that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

model_rows as (
    select * from {{ model }}
),

duplicates as (
    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as occurrences
    from model_rows
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)

select * from duplicates

{% endtest %}
