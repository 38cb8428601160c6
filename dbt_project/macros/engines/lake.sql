{#
  Where the engines meet (docs/spark.md). On DuckDB the loads write raw, audit and quarantine into
  the warehouse file itself and these hooks do nothing. On Spark the same tables are Parquet in the
  lake (CRW_LAKE, raw partitioned by batch month): each run starts by pointing a view per source at
  its folder, so a batch written since the last run is read without a catalog repair; and with
  CRW_BRING_BACK set it ends by writing every model's relation (tables, and the analytics views
  evaluated) as Parquet under that folder, <schema>/<name>/ (engines/spark.py).
#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
    select 1
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set lake = env_var('CRW_LAKE', '../data/lake') -%}
        {%- set sources = graph.sources.values() | list -%}
        {%- for schema in sources | map(attribute='schema') | unique -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for source in sources -%}
            {%- do run_query('create or replace view ' ~ source.schema ~ '.' ~ source.identifier
                ~ ' as select * from parquet.`' ~ lake ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ '`') -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro bring_back() -%}
    {{ return(adapter.dispatch('bring_back')()) }}
{%- endmacro %}

{% macro default__bring_back() -%}
    select 1
{%- endmacro %}

{% macro spark__bring_back() -%}
    {%- set out = env_var('CRW_BRING_BACK', '') -%}
    {%- if execute and out -%}
        {%- for node in graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') -%}
            {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if relation is not none -%}
                {%- do run_query("insert overwrite directory '" ~ out ~ "/" ~ node.schema ~ "/" ~ node.alias
                    ~ "' using parquet select * from " ~ relation) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
