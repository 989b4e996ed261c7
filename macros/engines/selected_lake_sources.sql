{#- The source nodes that the nodes selected for this run read, each once. -#}
{% macro selected_lake_sources() %}
{%- set source_ids = [] -%}
{%- for unique_id in selected_resources -%}
{%- set node = graph.nodes.get(unique_id) -%}
{%- if node is not none -%}
{%- for dependency in node.depends_on.nodes -%}
{%- if dependency.startswith('source.') and dependency not in source_ids -%}
{%- do source_ids.append(dependency) -%}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- endfor -%}
{%- set sources = [] -%}
{%- for source_id in source_ids -%}
{%- do sources.append(graph.sources[source_id]) -%}
{%- endfor -%}
{{ return(sources) }}
{% endmacro %}
