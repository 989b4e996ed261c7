{{ committed_dlt_loads(source('partners_quarantine', '_dlt_loads')) }}
