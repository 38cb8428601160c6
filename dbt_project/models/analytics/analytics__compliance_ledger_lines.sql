{{ config(alias='compliance_ledger_lines') }}
-- Compliance: every line sent to the bureau, in the order written, with the feedback's code if
-- the bureau refused it (its message may quote the record and stays in audit).
select
    files.written_order,
    files.generated_at,
    records.file_name,
    records.line,
    records.record_type,
    records.account_id,
    records.report_month,
    records.deleted_through,
    records.modified_segment,
    refused.code as refused_code
from {{ source('audit', 'bureau_records') }} as records
inner join {{ source('audit', 'bureau_files') }} as files using (file_name)
left join {{ source('audit', 'bureau_refused') }} as refused using (file_name, line)
