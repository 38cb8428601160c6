-- R18: the coverage cube. Account measures come from every active account-month (reported when
-- it is in credit_report_monthly), customer measures from every customer-month since entering
-- the product; both carry the customer's cohort as of the month's end. Every measure is a count
-- or a sum, so any roll-up is a sum and rates are computed from sums. No personal data (R15).
{%- set cube_grain = ['report_month', 'product', 'score_band', 'age_band', 'registration_year',
                      'province_code', 'limit_band', 'wave_label'] %}

with cohorts as (  -- the month's cohort and the customer's wave
    select
        cohort_months.*,
        rollout.wave_label,
        rollout.first_invited_on,
        rollout.consented_on,
        rollout.opted_out_on
    from {{ ref('int_cohort_months') }} as cohort_months
    inner join {{ ref('int_customer_product_rollout') }} as rollout using (customer_id, product)
),

reported as (
    select report_month, account_id from {{ ref('credit_report_monthly') }}
),

account_measures as (
    select
        {%- for column in cube_grain %}
        cohorts.{{ column }},
        {%- endfor %}
        count(*) as active_accounts,
        count(reported.account_id) as reported_accounts,
        sum(coalesce(months.balance, 0)) as total_balance,
        sum(case when reported.account_id is not null then coalesce(months.balance, 0) else 0 end) as reported_balance
    from {{ ref('int_account_months') }} as months
    inner join cohorts using (customer_id, product, report_month)
    left join reported using (report_month, account_id)
    group by all
),

customer_measures as (
    select
        {%- for column in cube_grain %}
        cohorts.{{ column }},
        {%- endfor %}
        count(*) filter (where cohorts.first_invited_on <= cohorts.month_end) as invited_customers,
        count(*) filter (where cohorts.consented_on <= cohorts.month_end) as consented_customers,
        count(*) filter (where cohorts.opted_out_on <= cohorts.month_end) as opted_out_by_closing
    from cohorts
    group by all
),

measures as (
    select *, 0 as invited_customers, 0 as consented_customers, 0 as opted_out_by_closing
    from account_measures
    union all by name
    select *, 0 as active_accounts, 0 as reported_accounts, 0 as total_balance, 0 as reported_balance
    from customer_measures
)

select
    report_month as month,
    product,
    score_band,
    age_band,
    registration_year,
    province_code,
    limit_band,
    wave_label,
    cast(sum(active_accounts) as bigint) as active_accounts,
    cast(sum(reported_accounts) as bigint) as reported_accounts,
    cast(sum(total_balance) as decimal(18, 2)) as total_balance,
    cast(sum(reported_balance) as decimal(18, 2)) as reported_balance,
    cast(sum(invited_customers) as bigint) as invited_customers,
    cast(sum(consented_customers) as bigint) as consented_customers,
    cast(sum(opted_out_by_closing) as bigint) as opted_out_by_closing
from measures
group by all
