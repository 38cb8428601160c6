{{ monthly_incremental() }}
-- R5, R11, P1, P5: the 24-month history string of every record, oldest month first, ending with
-- its own month. A month without a record (before the first reportable month, before the first
-- loaded batch, or without a batch) is '/': nothing before consent leaves a trace.
with records as (
    select account_id, report_month, month_status
    from {{ ref('int_account_month_status') }}
    where {{ in_rebuild_window('report_month', months_before=23) }}  -- what the window's strings look back on
),

bounds as (
    select account_id, min(report_month) as first_month, max(report_month) as last_month
    from records
    group by account_id
),

calendar as (
    select
        account_id,
        cast(unnest(generate_series(first_month, last_month, interval 1 month)) as date) as report_month
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
        lpad(
            array_to_string(
                list(mark) over (partition by account_id order by report_month rows between 23 preceding and current row),
                ''
            ),
            24,
            '/'
        ) as repayment_history_24m
    from marks
)

select account_id, report_month, repayment_history_24m
from windowed
where has_record and {{ in_rebuild_window('report_month') }}
