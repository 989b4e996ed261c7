{{
    config(
        materialized=keyed_materialization(),
        unique_key='charge_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('payments', 'charges') }}
),

loads as (
    select * from {{ ref('stg_payments__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_payments__loads')
) }},

renamed as (
    select
        cast(id as {{ dbt.type_string() }}) as charge_id,
        cast(metadata__order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(replace(customer, 'cus_', '') as {{ dbt.type_bigint() }}) as customer_id,
        cast(status as {{ dbt.type_string() }}) as charge_status,
        cast(failure_code as {{ dbt.type_string() }}) as failure_code,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(amount as {{ dbt.type_bigint() }}) as amount_cents,
        cast(amount_refunded as {{ dbt.type_bigint() }}) as amount_refunded_cents,
        {{ cents_to_dollars('amount') }} as amount,
        {{ cents_to_dollars('amount_refunded') }} as amount_refunded,
        status = 'succeeded' as is_paid,
        {{ epoch_seconds_to_timestamp('created') }} as created_at,
        cast({{ epoch_seconds_to_timestamp('created') }} as date) as created_date,
        {{ epoch_seconds_to_timestamp('updated') }} as updated_at,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

-- Each change of a charge lands as one more row: keep the newest version of each id.
{{ newest_version_per_key(
    'renamed',
    unique_key='charge_id',
    as='newest_versions',
) }}

select * from newest_versions
