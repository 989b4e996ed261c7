{#-
    The whole body of a `stg_<source>__loads` model: dlt's load ledger `loads_relation`
    (one row per finished load) narrowed to the committed loads (status 0), with the
    commit time as `loaded_at`. `extra_columns` keeps more ledger columns, as strings.
-#}
{% macro committed_dlt_loads(loads_relation, extra_columns=[]) %}
{%- set extra = [] -%}
{%- for column in extra_columns -%}
{%- do extra.append(',\n        cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ') as ' ~ column) -%}
{%- endfor -%}
with

source as (
    select * from {{ loads_relation }}
),

renamed as (
    select
        cast(load_id as {{ dbt.type_string() }}) as load_id,
        cast(status as integer) as load_status,
        cast(inserted_at as {{ dbt.type_timestamp() }}) as loaded_at{{ extra | join('') }}
    from source
),

committed as (
    select * from renamed
    where load_status = 0
)

select * from committed
{%- endmacro %}
