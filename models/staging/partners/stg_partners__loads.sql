{{ committed_dlt_loads(source('partners', '_dlt_loads')) }}
