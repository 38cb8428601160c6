-- R18: the coverage cube. Account measures come from every active account-month (reported when
-- it is in credit_report_monthly), customer measures from every customer-month since entering
-- the product; both carry the customer's cohort as of the month's end and the customer's wave.
-- Every measure is a count or a sum, so any roll-up is a sum and rates are computed from sums. The
-- cells are kept month by month in int_coverage_cells; this table is their published shape. No
-- personal data (R15).
select
    month,
    {%- for column in coverage_grain() %}
    {{ column }},
    {%- endfor %}
    active_accounts,
    reported_accounts,
    total_balance,
    reported_balance,
    invited_customers,
    consented_customers,
    opted_out_by_closing
from {{ ref('int_coverage_cells') }}
