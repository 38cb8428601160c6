{# The accounts FIFO coverage is computed for: their customer consented for the product (R3). #}
{% macro consented_accounts() -%}
    select accounts.account_id
    from {{ ref('stg_landing__accounts') }} as accounts
    where exists (
        select 1 from {{ ref('int_consent_windows') }} as consent
        where consent.customer_id = accounts.customer_id and consent.product = accounts.product
    )
{%- endmacro %}

{# A monthly run of int_bill_coverage keeps only what no batch of the window can change: the bills
   settled before the window, of accounts still consented. #}
{% macro delete_bills_to_recompute() -%}
    {%- if rebuilding_window() -%}
        delete from {{ this }}
        where not {{ settled_before_window() }}
            or account_id not in ({{ consented_accounts() }})
    {%- endif -%}
{%- endmacro %}
