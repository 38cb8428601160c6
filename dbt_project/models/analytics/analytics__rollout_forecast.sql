{{ config(alias='rollout_forecast') }}
-- The analytics surface (R15): what the dashboard and ad-hoc SQL see, no personal data.
select * from {{ ref('rollout_forecast') }}
