{{ config(alias='submission_refusals') }}
-- The analytics surface (R15): records the bureau's feedback refused, per file and code; the
-- bureau's messages may quote the record and stay in audit.bureau_refused.
select
    file_name,
    record_type,
    code,
    count(*) as records_refused,
    count(distinct account_id) as accounts_refused,
    max(refused_at) as refused_at
from {{ source('audit', 'bureau_refused') }}
group by file_name, record_type, code
