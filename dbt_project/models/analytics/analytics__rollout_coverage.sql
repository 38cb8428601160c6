{{ config(alias='rollout_coverage') }}
-- The analytics surface (R15): what the dashboard and ad-hoc SQL see, no personal data.
select * from {{ ref('fct_rollout_coverage') }}
