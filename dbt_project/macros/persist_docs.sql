{% macro duckdb__persist_docs(relation, model, for_relation=true, for_columns=true) -%}
{#- persist_docs (dbt_project.yml) for DuckDB, writing only the comments that differ from the
    stored ones. dbt's own macro reads the relation's columns twice and rewrites every comment
    on every build, though an incremental model keeps its comments from one build to the next:
    four statements per model, ~1 s of a 10-minute build's nodes for 36 models. Here one
    catalog read finds the relation's and columns' comments, and one statement (none when
    nothing changed) writes what is missing or stale: a rebuilt table's, an edited
    description's, a comment changed by hand. Documented columns the relation lacks are
    reported as dbt's macro does (validate_doc_columns). -#}
{%- set want_relation = for_relation and config.persist_relation_docs() and model.description -%}
{%- set want_columns = for_columns and config.persist_column_docs() and model.columns -%}
{%- if not (want_relation or want_columns) -%}
    {{ return('') }}
{%- endif -%}
{%- set in_relation = "database_name = '" ~ relation.database ~ "' and schema_name = '"
    ~ relation.schema ~ "' and " -%}
{%- set stored = run_query(
    "select column_name, comment from duckdb_columns()"
    ~ " where " ~ in_relation ~ "table_name = '" ~ relation.identifier ~ "'"
    ~ " union all select null, comment from duckdb_tables()"
    ~ " where " ~ in_relation ~ "table_name = '" ~ relation.identifier ~ "'"
    ~ " union all select null, comment from duckdb_views()"
    ~ " where " ~ in_relation ~ "view_name = '" ~ relation.identifier ~ "'"
) -%}
{#- DuckDB matches identifiers case-insensitively, and so does the lookup -#}
{%- set relation_comment = [none] -%}
{%- set column_comments = {} -%}
{%- set stored_names = [] -%}
{%- for row in stored.rows -%}
    {%- if row[0] is none -%}
        {%- do relation_comment.append(row[1]) -%}
    {%- else -%}
        {%- do column_comments.update({row[0] | lower: row[1]}) -%}
        {%- do stored_names.append(row[0]) -%}
    {%- endif -%}
{%- endfor -%}
{%- set statements = [] -%}
{%- if want_relation and relation_comment[-1] != model.description -%}
    {%- do statements.append(alter_relation_comment(relation, model.description)) -%}
{%- endif -%}
{%- if want_columns -%}
    {%- for name, column in validate_doc_columns(relation, model.columns, stored_names).items() -%}
        {%- set description = column.description or '' -%}
        {%- if (column_comments.get(name | lower) or '') != description -%}
            {%- do statements.append(
                'comment on column ' ~ relation ~ '.'
                ~ (adapter.quote(name) if column.quote else name)
                ~ ' is ' ~ duckdb_escape_comment(description) ~ ';'
            ) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- if statements -%}
    {%- do run_query(statements | join('\n')) -%}
{%- endif -%}
{%- endmacro %}
