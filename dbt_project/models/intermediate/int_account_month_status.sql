{{ monthly_incremental() }}
-- R10, P6: month status code; R12: five-level classification; the account's status.
-- Precedence: C in the closing month, then 1..7 when something is past due, then M, then *, then N.
select
    *,
    case
        when is_closing_month then 'C'
        when overdue_periods > 0 then
            case
                when days_past_due <= 30 then '1'
                when days_past_due <= 60 then '2'
                when days_past_due <= 90 then '3'
                when days_past_due <= 120 then '4'
                when days_past_due <= 150 then '5'
                when days_past_due <= 180 then '6'
                else '7'
            end
        when paid_late_within_month then 'M'
        when amount_due = 0 and amount_paid = 0 and coalesce(balance, 0) = 0 then '*'
        else 'N'
    end as month_status,
    case
        when days_past_due = 0 then 'NORMAL'
        when days_past_due <= 90 then 'SPECIAL_MENTION'
        when days_past_due <= 270 then 'SUBSTANDARD'
        when days_past_due <= 360 then 'DOUBTFUL'
        else 'LOSS'
    end as five_level_class,
    case
        when is_closing_month then 'CLOSED'
        when overdue_periods > 0 then 'OVERDUE'
        else 'NORMAL'
    end as account_status
from {{ ref('int_account_month_delinquency') }}
where {{ in_rebuild_window('report_month') }}
