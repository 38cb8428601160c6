{{ config(alias='submission_holds') }}
-- The analytics surface (R15): records held back by the checks before sending, counted per month
-- and rule; the details name values of the record and stay in audit.submission_holds.
select
    report_month,
    rule,
    count(*) as records_held,
    count(distinct account_id) as accounts_held,
    max(held_at) as held_at
from {{ source('audit', 'submission_holds') }}
group by report_month, rule
