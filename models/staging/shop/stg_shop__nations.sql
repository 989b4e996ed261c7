with

source as (
    select * from {{ source('shop', 'nation') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_shop__loads')
) }},

renamed as (
    select
        cast(n_nationkey as {{ dbt.type_bigint() }}) as nation_id,
        cast(n_name as {{ dbt.type_string() }}) as nation_name,
        cast(n_regionkey as {{ dbt.type_bigint() }}) as region_id,
        cast(n_comment as {{ dbt.type_string() }}) as nation_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

{{ newest_version_per_key(
    'renamed',
    unique_key='nation_id',
    as='newest_versions',
) }}

select * from newest_versions
