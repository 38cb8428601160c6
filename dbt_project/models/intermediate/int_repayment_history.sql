{{ monthly_incremental() }}
-- R5, R11, P1, P5: the 24-month history string of every record, oldest month first, ending with
-- its own month. A month without a record (before the first reportable month, before the first
-- loaded batch, or without a batch) is '/': nothing before consent leaves a trace.
with records as (
    select account_id, report_month, month_status
    from {{ ref('int_account_month_status') }}
    where {{ in_rebuild_window('report_month') }}
),

previous as (  -- a monthly run continues each account's last kept string, if it is recent enough to show
{%- if rebuilding_window() %}
    select account_id, report_month, repayment_history_24m
    from {{ this }}
    where report_month < {{ rebuild_from_month() }}
        and report_month >= {{ rebuild_from_month() }} - interval 24 month
        and account_id in (select account_id from records)
    qualify row_number() over (partition by account_id order by report_month desc) = 1
{%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as date) as report_month,
        cast(null as {{ dbt.type_string() }}) as repayment_history_24m
    where false
{%- endif %}
),

bounds as (  -- from the month after the kept string, else from the first record
    select
        records.account_id,
        cast(coalesce(any_value(previous.report_month) + interval 1 month, min(records.report_month)) as date)
            as first_month,
        max(records.report_month) as last_month
    from records
    left join previous using (account_id)
    group by records.account_id
),

calendar as (
    select
        account_id,
        {{ each_month('first_month', 'last_month') }} as report_month
    from bounds
),

marks as (
    select
        calendar.account_id,
        calendar.report_month,
        records.month_status is not null as has_record,
        coalesce(records.month_status, '/') as mark
    from calendar
    left join records using (account_id, report_month)
),

windowed as (
    select
        account_id,
        report_month,
        has_record,
        {{ window_string_agg(
            'mark', 'partition by account_id order by report_month rows between 23 preceding and current row'
        ) }} as recent_marks
    from marks
)

select
    windowed.account_id,
    windowed.report_month,
    lpad(right(coalesce(previous.repayment_history_24m, '') || windowed.recent_marks, 24), 24, '/')
        as repayment_history_24m
from windowed
left join previous using (account_id)
where windowed.has_record
