"""Compliance: why a customer was reported, or not, in each month, under which authorization, and
what was sent: `credit-reporting-warehouse explain` on the published copy, by customer key."""

import re

import pandas as pd
import streamlit as st

from compliance.explain import EXAMPLE_CUSTOMER, ExplainError, Query, explain
from dashboards import queries, reader
from dashboards.layout import page_footer, page_header
from foundation import published_sql

CUSTOMER_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
EVERY_MONTH = "every month loaded"


@st.cache_data(ttl=600, max_entries=64, show_spinner=False)
def _answer(customer: str, month: str | None, version: tuple[int, int]) -> dict:
    with published_sql.connect() as con:
        return explain(con, Query(customer=customer, month=month))


page_header(
    "Compliance",
    "For one customer key: each account's reporting authorization (or why none is valid), its opening and "
    "closing, the first month it may be reported, and per month the record with the bills behind its status "
    "and the files that sent it, or the rule that kept it out. Keys only, no personal data (R15).",
)
months = queries.loaded_months()
left, right = st.columns([2, 1])
# the key is in the address (?customer=C00000013): an answer can be linked to
customer = left.text_input(
    "Customer key", value=st.query_params.get("customer", ""), placeholder=EXAMPLE_CUSTOMER, key="customer"
).strip()
month = right.selectbox("Month", [EVERY_MONTH, *reversed(months)], key="month")
if customer:
    st.query_params["customer"] = customer
if not customer:
    st.info("Enter a customer key to see why they were reported or not.")
    page_footer()
    st.stop()
if not CUSTOMER_KEY.fullmatch(customer):
    st.error(f"A customer key is letters, digits, '-' or '_' (up to 40), like {EXAMPLE_CUSTOMER}.")
    page_footer()
    st.stop()
try:
    answer = _answer(customer, None if month == EVERY_MONTH else month, reader.snapshot_version())
except ExplainError as exc:
    st.warning(str(exc))
    page_footer()
    st.stop()

st.subheader(f"Customer {answer['customer']}")
if answer["quarantined"]:
    st.warning(f"{len(answer['quarantined'])} row(s) of this customer were quarantined at load")
    st.dataframe(pd.DataFrame(answer["quarantined"]), hide_index=True, width="stretch")
if not answer["accounts"]:
    st.info("This customer has no account.")
for account in answer["accounts"]:
    st.markdown(f"#### Account {account['account_id']} · {account['product']}")
    closed = f"closed {account['closed_on']}" if account["closed_on"] else "open"
    consent = account["consent"]
    facts = [
        f"Opened {account['opened_on']}, {closed}.",
        f"Consent: **{consent['agreement_id']}** for {consent['signed_for']}, signed "
        f"{consent['signed_at']:%Y-%m-%d %H:%M} China time (local month {consent['local_month']})."
        if consent
        else f"Consent: none valid: {account['no_consent_because']}.",
        f"First reportable month: **{account['first_reportable_month'] or 'none'}**.",
    ]
    st.markdown("  \n".join(facts))
    if account["r4"]:
        st.warning(account["r4"])
    rows = [
        {
            "month": m["month"],
            "reported": m["reported"],
            "status": f"{m['record']['month_status']} {m['status']}" if m["reported"] else None,
            "code": m["record"]["report_reason_code"] if m["reported"] else None,
            "kept out by": None if m["reported"] else m["rule"],
            "why / where": m["at_the_bureau"] if m["reported"] else m["detail"],
        }
        for m in account["months"]
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    single = len(account["months"]) == 1
    for m in (m for m in account["months"] if m["reported"] and (m["past_due_bills"] or single)):
        with st.expander(f"{m['month']}: the bills behind status {m['record']['month_status']} and the lines sent"):
            if m["past_due_bills"]:
                st.dataframe(pd.DataFrame(m["past_due_bills"]), hide_index=True, width="stretch")
            if m["sent"]:
                st.dataframe(pd.DataFrame(m["sent"]), hide_index=True, width="stretch")
page_footer()
