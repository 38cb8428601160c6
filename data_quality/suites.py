"""One expectation suite per landing file, as code: the landing contract's rules, one per line.

Batch-dependent bounds are suite parameters, filled in at validation: $batch_end (the instant the
batch's month ends), $batch_last_day, $batch_months ([YYYY-MM]). Columns named `derived_*` are
computed from each row before validation (gate.DERIVED_COLUMNS), for rules spanning two columns.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from data_quality.expectations import ExpectColumnValuesToBeValidGb11643IdNumber, ExpectColumnValuesToFullyMatch
from foundation.provinces import PROVINCES

BATCH_END = {"$PARAMETER": "batch_end"}
BATCH_LAST_DAY = {"$PARAMETER": "batch_last_day"}
BATCH_MONTHS = {"$PARAMETER": "batch_months"}  # the one-element list [YYYY-MM]


def _not_null(*columns: str) -> list:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c, description=f"{c} is required") for c in columns]


def _id(column: str, prefix: str) -> gxe.Expectation:
    return ExpectColumnValuesToFullyMatch(
        column=column, pattern=rf"{prefix}\d+", description=f"{column} is {prefix} followed by digits"
    )


def _not_after_batch(*columns: str) -> list:
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=c, max_value=BATCH_END, strict_max=True, description=f"{c} is not after the batch's month"
        )
        for c in columns
    ]


def _not_before(later: str, earlier: str) -> gxe.Expectation:
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=later,
        column_B=earlier,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        description=f"{later} is not before {earlier}",
    )


def _in_set(column: str, values: list, what: str | None = None) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeInSet(
        column=column, value_set=values, description=f"{column} is {what or 'one of ' + ', '.join(map(str, values))}"
    )


def _unique(column: str) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeUnique(column=column, description=f"{column} appears once in the batch")


def expectations() -> dict[str, list]:
    """The suites' expectations by landing table (fresh objects: a suite owns its expectations)."""
    return {
        "customers": [
            *_not_null(
                "customer_id",
                "id_number",
                "full_name",
                "phone",
                "birth_date",
                "gender",
                "province_code",
                "registered_at",
                "sesame_score",
                "updated_at",
            ),
            _id("customer_id", "C"),
            gxe.ExpectColumnValuesToBeUnique(
                column="derived_customer_version", description="one row per customer version"
            ),
            ExpectColumnValuesToBeValidGb11643IdNumber(
                column="id_number", description="id_number is a valid GB 11643 number (R14)"
            ),
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="derived_id_birth_date",
                column_B="derived_birth_date",
                description="the birth date inside id_number equals birth_date (R14)",
            ),
            ExpectColumnValuesToFullyMatch(
                column="phone", pattern=r"1[3-9]\d{9}", description="phone is an 11-digit mainland mobile number"
            ),
            _in_set("gender", ["M", "F"]),
            _in_set("province_code", sorted(PROVINCES), "a GB/T 2260 province code"),
            gxe.ExpectColumnValuesToBeBetween(
                column="sesame_score", min_value=350, max_value=950, description="sesame_score is within 350..950"
            ),
            *_not_after_batch("registered_at", "updated_at"),
        ],
        "accounts": [
            *_not_null("account_id", "customer_id", "product", "opened_at", "updated_at"),
            _id("account_id", "A"),
            _id("customer_id", "C"),
            gxe.ExpectColumnValuesToBeUnique(
                column="derived_account_version", description="one row per account version"
            ),
            _in_set("product", ["HUABEI", "JIEBEI"]),
            gxe.ExpectColumnValuesToBeInSet(
                column="derived_loan_terms_fit_product",
                value_set=[True],
                description="loan_amount > 0 and term_months in 3/6/12/24 for JIEBEI, both empty for HUABEI",
            ),
            _not_before("closed_at", "opened_at"),
            *_not_after_batch("opened_at", "closed_at", "updated_at"),
        ],
        "agreements": [
            *_not_null(
                "agreement_id", "customer_id", "product", "document_code", "document_version", "signed_at", "channel"
            ),
            _unique("agreement_id"),
            _id("customer_id", "C"),
            _in_set("product", ["HUABEI", "JIEBEI", "ALL"]),
            _in_set("document_code", ["HUABEI_SERVICE", "SESAME_SERVICE", "CREDIT_REPORTING_AUTH", "LOAN_CONTRACT"]),
            _in_set("channel", ["SERVICE_UPGRADE", "LIMIT_INCREASE", "LOAN_CONTRACT", "APP"]),
            *_not_after_batch("signed_at"),
        ],
        "invitations": [
            *_not_null("invitation_id", "customer_id", "product", "wave", "invited_at", "channel"),
            _unique("invitation_id"),
            _id("customer_id", "C"),
            _in_set("product", ["HUABEI"]),
            gxe.ExpectColumnValuesToBeBetween(column="wave", min_value=1, description="wave is 1 or more"),
            _in_set("channel", ["PUSH", "SMS", "IN_APP"]),
            *_not_after_batch("invited_at"),
        ],
        "bills": [
            *_not_null("bill_id", "account_id", "bill_month", "statement_date", "due_date", "amount_due"),
            _unique("bill_id"),
            _id("account_id", "A"),
            _not_before("due_date", "statement_date"),
            gxe.ExpectColumnValuesToBeInSet(
                column="derived_bill_month_fits_statement",
                value_set=[True],
                description="bill_month is the month of statement_date",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount_due", min_value=0, description="amount_due is not negative"
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="statement_date",
                max_value=BATCH_LAST_DAY,
                description="statement_date is not after the batch's month",
            ),
        ],
        "repayments": [
            *_not_null("repayment_id", "account_id", "paid_at", "amount"),
            _unique("repayment_id"),
            _id("account_id", "A"),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount", min_value=0, strict_min=True, description="amount is positive"
            ),
            *_not_after_batch("paid_at"),
        ],
        "account_snapshots": [
            *_not_null("account_id", "snapshot_month", "credit_limit", "outstanding_balance"),
            _unique("account_id"),
            _id("account_id", "A"),
            gxe.ExpectColumnValuesToBeInSet(
                column="derived_snapshot_month",
                value_set=BATCH_MONTHS,
                description="snapshot_month is the batch month",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="credit_limit", min_value=0, description="credit_limit is not negative"
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="outstanding_balance", min_value=0, description="outstanding_balance is not negative"
            ),
        ],
    }


def build_suite(table: str) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=f"landing_{table}")
    for expectation in expectations()[table]:
        suite.add_expectation(expectation)
    return suite
