{{ committed_dlt_loads(
    source('shop', '_dlt_loads'),
    extra_columns=['schema_name', 'schema_version_hash'],
) }}
