{{ committed_dlt_loads(source('payments', '_dlt_loads')) }}
