{#
  R18: the coverage cube as sums of customer-months. A customer-month contributes to one cell
  (month, product, cohort as of the month's end, wave): one customer-month, its active and reported
  accounts and balances, and whether the customer was invited, consented or opted out by the
  month's end. Everything but the wave and those three dates is a fact of the month; they are the
  customer's lifetime attributes (R16), given here by `labels`, so an invitation relabels a
  customer's past months. int_coverage_cells keeps past months as built and moves only the
  relabelled customers' contributions (relabel_kept_coverage_cells).
#}
{% macro coverage_grain() -%}
    {{ return(['product', 'score_band', 'age_band', 'registration_year', 'province_code', 'limit_band', 'wave_label']) }}
{%- endmacro %}

{% macro coverage_measures() -%}
    {{ return({
        'customer_months': 'bigint',
        'active_accounts': 'bigint',
        'reported_accounts': 'bigint',
        'total_balance': 'decimal(18, 2)',
        'reported_balance': 'decimal(18, 2)',
        'invited_customers': 'bigint',
        'consented_customers': 'bigint',
        'opted_out_by_closing': 'bigint',
    }) }}
{%- endmacro %}

{# The cells of the customer-months whose month meets `month_condition` (on `report_month`), each
   customer-product labelled by the relation `labels`, every measure times `sign`. #}
{% macro coverage_cell_sums(labels, month_condition, sign=1) -%}
(
    with cohorts as (
        select
            cohort_months.*,
            labels.wave_label,
            labels.first_invited_on,
            labels.consented_on,
            labels.opted_out_on
        from {{ ref('int_cohort_months') }} as cohort_months
        inner join {{ labels }} as labels using (customer_id, product)
        where {{ month_condition }}
    ),

    account_measures as (
        select
            cohorts.report_month,
            {%- for column in coverage_grain() %}
            cohorts.{{ column }},
            {%- endfor %}
            count(*) as active_accounts,
            count(reported.account_id) as reported_accounts,
            sum(coalesce(months.balance, 0)) as total_balance,
            sum(case when reported.account_id is not null then coalesce(months.balance, 0) else 0 end)
                as reported_balance
        from (select * from {{ ref('int_account_months') }} where {{ month_condition }}) as months
        inner join cohorts using (customer_id, product, report_month)
        left join (
            select report_month, account_id from {{ ref('credit_report_monthly') }} where {{ month_condition }}
        ) as reported using (report_month, account_id)
        group by all
    ),

    customer_measures as (
        select
            report_month,
            {%- for column in coverage_grain() %}
            {{ column }},
            {%- endfor %}
            count(*) as customer_months,
            count(*) filter (where first_invited_on <= month_end) as invited_customers,
            count(*) filter (where consented_on <= month_end) as consented_customers,
            count(*) filter (where opted_out_on <= month_end) as opted_out_by_closing
        from cohorts
        group by all
    ),

    {%- set account_side = ['active_accounts', 'reported_accounts', 'total_balance', 'reported_balance'] %}

    measures as (
        {%- for side in ['account_measures', 'customer_measures'] %}
        select
            report_month,
            {%- for column in coverage_grain() %}
            {{ column }},
            {%- endfor %}
            {%- for measure in coverage_measures() %}
            {{ measure if (measure in account_side) == (side == 'account_measures') else 0 }} as {{ measure }}
            {{- ',' if not loop.last }}
            {%- endfor %}
        from {{ side }}
        {{ 'union all' if loop.first }}
        {%- endfor %}
    )

    select
        report_month as month,
        {%- for column in coverage_grain() %}
        {{ column }},
        {%- endfor %}
        {%- for measure, data_type in coverage_measures().items() %}
        cast({{ sign }} * sum({{ measure }}) as {{ data_type }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from measures
    group by all
)
{%- endmacro %}

{# The wave and rollout dates each customer-product's cells were last built with. #}
{% macro coverage_labels_as_built() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '_labels')) }}
{%- endmacro %}

{% macro coverage_label_columns() -%}
    customer_id, product, wave_label, first_invited_on, consented_on, opted_out_on
{%- endmacro %}

{% macro keep_coverage_labels() -%}
    create or replace table {{ coverage_labels_as_built() }} as
    select {{ coverage_label_columns() }} from {{ ref('int_customer_product_rollout') }}
{%- endmacro %}

{# A monthly run keeps the months before its window as built, but an invitation, a consent or an
   opt-out relabels a customer's past months: their contributions move from the cells of the labels
   they were built with to the cells of the labels they have now. Only customers whose labels
   changed are read again; their kept months are unchanged (the window's invariant), so the move is
   exact. A cell left with no customer-month goes, as a full build would not have it. #}
{% macro relabel_kept_coverage_cells() -%}
    {%- if rebuilding_window() -%}
    {%- set kept = 'report_month < ' ~ rebuild_from_month() -%}
    {%- set matches -%}
        cells.month = delta.month
        {%- for column in coverage_grain() %}
        and cells.{{ column }} is not distinct from delta.{{ column }}
        {%- endfor %}
    {%- endset -%}
    create or replace temporary table coverage_labels_changed as
    with built as (
        select {{ coverage_label_columns() }} from {{ coverage_labels_as_built() }}
    ),
    current_labels as (
        select {{ coverage_label_columns() }} from {{ ref('int_customer_product_rollout') }}
    )
    select distinct customer_id, product from ((from built except from current_labels) union all (from current_labels except from built));

    create or replace temporary table coverage_relabel as
    select
        month,
        {%- for column in coverage_grain() %}
        {{ column }},
        {%- endfor %}
        {%- for measure, data_type in coverage_measures().items() %}
        cast(sum({{ measure }}) as {{ data_type }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        {{ coverage_cell_sums(
            '(select * from ' ~ coverage_labels_as_built() ~ ' semi join coverage_labels_changed using (customer_id, product))',
            kept, sign=-1) }}
        union all
        {{ coverage_cell_sums(
            '(select * from ' ~ ref('int_customer_product_rollout') ~ ' semi join coverage_labels_changed using (customer_id, product))',
            kept) }}
    )
    group by all;

    update {{ this }} as cells set
        {%- for measure in coverage_measures() %}
        {{ measure }} = cells.{{ measure }} + delta.{{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from coverage_relabel as delta
    where {{ matches }};

    insert into {{ this }} by name
    select * from coverage_relabel as delta
    where not exists (select 1 from {{ this }} as cells where {{ matches }});

    delete from {{ this }} where customer_months = 0
    {%- endif -%}
{%- endmacro %}
