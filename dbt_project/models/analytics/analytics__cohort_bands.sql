{{ config(alias='cohort_bands') }}
-- The analytics surface (R15): what the dashboard and ad-hoc SQL see, no personal data.
select * from {{ ref('dim_cohort_bands') }}
