{{ config(alias='reporting_summary') }}
-- The analytics surface (R15): what the dashboard and ad-hoc SQL see, no personal data.
select * from {{ ref('fct_reporting_summary') }}
