{#-
    Folder and file format of a source from its DuckDB `external_location`, e.g.
    read_parquet('<lake>/raw/shop/{name}/*.parquet', ...) → (<lake>/raw/shop/orders, parquet):
    the folder is the path up to its first wildcard segment, and Spark discovers the
    files (and any key=value partition folders) beneath it. Folders under the wildcard
    that are not hive partitions (one per batch, say) make `recursive` true, so Spark
    lists their files instead of failing to infer a schema; `hive` says the folders are
    key=value partitions, which a catalog table only sees once they are recovered. None when a source has no
    external_location (it is a table in the warehouse already).
-#}
{% macro lake_source_location(source_node) %}
{%- set meta = source_node.meta or source_node.source_meta -%}
{%- set external = meta.get('external_location') -%}
{%- if not external -%}{{ return(none) }}{%- endif -%}
{%- set reader = external.strip().split('(')[0] | lower -%}
{%- set glob = external.split("'")[1] | replace('{name}', source_node.name) -%}
{%- set folders = [] -%}
{%- set scan = namespace(in_glob=false, wild_folders=0) -%}
{%- for segment in glob.split('/') -%}
{%- if '*' in segment -%}{%- set scan.in_glob = true -%}{%- endif -%}
{%- if scan.in_glob and not loop.last -%}
{%- set scan.wild_folders = scan.wild_folders + 1 -%}
{%- endif -%}
{%- if not scan.in_glob -%}{%- do folders.append(segment) -%}{%- endif -%}
{%- endfor -%}
{%- set hive = 'hive_partitioning' in external -%}
{%- set recursive = scan.wild_folders > 0 and not hive -%}
{%- set format = 'parquet' if 'parquet' in reader else 'json' -%}
{{ return({'path': folders | join('/'), 'format': format, 'recursive': recursive, 'hive': hive}) }}
{% endmacro %}
