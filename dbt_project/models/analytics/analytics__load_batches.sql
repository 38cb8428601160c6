{{ config(alias='load_batches') }}
-- The analytics surface (R15): load attempts, for the data-quality page and analysts.
select * from {{ source('audit', 'load_batches') }}
