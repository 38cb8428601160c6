-- R18: the cube's reported accounts for a month and product are exactly the reporting mart's
-- records, and its active accounts exactly the open account-months: no account lost or doubled
-- by the cohort joins.
with cube as (
    select month, product, sum(reported_accounts) as reported, sum(active_accounts) as active
    from {{ ref('fct_rollout_coverage') }}
    group by month, product
),

mart as (
    select report_month as month, product, count(*) as reported
    from {{ ref('credit_report_monthly') }}
    group by all
),

spine as (
    select report_month as month, product, count(*) as active
    from {{ ref('int_account_months') }}
    group by all
)

select spine.month, spine.product, cube.active, spine.active, cube.reported, mart.reported
from spine
full join cube using (month, product)
full join mart using (month, product)
where coalesce(cube.active, 0) <> coalesce(spine.active, 0)
   or coalesce(cube.reported, 0) <> coalesce(mart.reported, 0)
