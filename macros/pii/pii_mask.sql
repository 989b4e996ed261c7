{#-
    `expression` with every character but the last two replaced by `*`, its length kept
    (a phone '25-989-741-2988' becomes '*************88'). Null stays null. Called through
    pii(), which reads the column's meta. lpad and substr are the same on every engine here.
-#}
{% macro pii_mask(expression) -%}
lpad(substr({{ expression }}, length({{ expression }}) - 1), cast(length({{ expression }}) as integer), '*')
{%- endmacro %}
