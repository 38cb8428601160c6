-- R3, R6, P7: per customer and product, the earliest CREDIT_REPORTING_AUTH for that product or
-- for ALL (by instant, ties to the smaller agreement id). It opens reporting from its local month.
with authorizations as (
    select
        agreement_id,
        customer_id,
        product as signed_for,
        signed_at,
        signed_month
    from {{ ref('stg_landing__agreements') }}
    where document_code = 'CREDIT_REPORTING_AUTH'
      and signed_at is not null
),

reported_products as (
    select product from (values ('HUABEI'), ('JIEBEI')) as products (product)
),

covering as (
    select
        authorizations.customer_id,
        reported_products.product,
        authorizations.agreement_id,
        authorizations.signed_at,
        authorizations.signed_month
    from authorizations
    inner join reported_products
        on authorizations.signed_for in (reported_products.product, 'ALL')
)

select
    customer_id,
    product,
    agreement_id as consent_agreement_id,
    signed_at as consent_signed_at,
    signed_month as consent_month
from covering
qualify row_number() over (partition by customer_id, product order by signed_at, agreement_id) = 1
