"""Month-by-month simulation of the lender's operational systems, vectorized over accounts.

Every month of the window is one batch. Customers, accounts and the rollout are numpy arrays;
each month is a handful of array operations (no Python loop per row), so the generator scales
to millions of customers. One seeded generator is consumed in a fixed order: the same config
gives byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from foundation.provinces import PROVINCES
from source_system.batch_writer import UTC_SUFFIX, write_batch
from source_system.config import GeneratorConfig
from source_system.dirty import DEFECTS, inject, write_defect_log
from source_system.identity import chinese_names, identity_numbers, mobile_phones

DAY = 86_400
NEVER = np.iinfo(np.int64).max
WAVE_SCORE_FLOORS = (720, 680, 640, 600, 560)  # wave 1, 2, ...; later waves invite everyone
JIEBEI_TERMS = np.array([3, 6, 12, 24])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class Window:
    """Local-time (UTC+8, R1) month boundaries as seconds since 1970-01-01 00:00 local."""

    def __init__(self, first_month: str, months: int) -> None:
        self.first = np.datetime64(first_month, "M")
        bounds = self.first + np.arange(months + 1)
        self.labels = [str(m) for m in bounds[:-1]]
        self.starts = bounds.astype("datetime64[s]").astype(np.int64)
        self.start_days = bounds.astype("datetime64[D]").astype(np.int64)

    def start(self, m: int) -> int:
        return int(self.starts[m])

    def end(self, m: int) -> int:
        return int(self.starts[m + 1])

    def month_of(self, t: np.ndarray) -> np.ndarray:
        """Month index of each local time relative to the window's first month (negative before it)."""
        return (t.astype("datetime64[s]").astype("datetime64[M]") - self.first).astype(np.int64)


class Population:
    """Customers and their accounts, drawn once before the window opens."""

    def __init__(self, cfg: GeneratorConfig, win: Window, rng: np.random.Generator) -> None:
        n = cfg.customers
        w0, w_end = win.start(0), win.end(cfg.months - 1)
        # Customers: most registered over the 6 years before the window, some during it.
        in_window = rng.random(n) < 0.10
        self.registered = np.where(
            in_window,
            rng.integers(w0, w_end - 20 * DAY, n),
            rng.integers(w0 - 6 * 365 * DAY, w0, n),
        )
        self.score = np.clip(np.rint(rng.normal(650, 70, n)), 350, 950).astype(np.int64)
        age_days = rng.integers(20 * 365, 66 * 365, n)
        self.birth_days = (w0 // DAY) - age_days
        birth = self.birth_days.astype("datetime64[D]")
        ymd = birth.astype(str)
        birth_yyyymmdd = np.char.replace(ymd, "-", "").astype(np.int64)
        self.male = rng.random(n) < 0.5
        codes = np.array(list(PROVINCES))
        weights = np.array(list(PROVINCES.values()))
        self.province = codes[rng.choice(len(codes), n, p=weights / weights.sum())]
        self.id_number = identity_numbers(rng, self.province, birth_yyyymmdd, self.male)
        self.name = chinese_names(rng, n)
        self.phone = mobile_phones(rng, n)

        # HUABEI: most customers open one soon after registering.
        has_huabei = rng.random(n) < 0.93
        h_open = self.registered + rng.exponential(45, n).astype(np.int64) * DAY + rng.integers(0, DAY, n)
        h_cust = np.flatnonzero(has_huabei & (h_open < w_end))
        # JIEBEI: a minority, better scores more often; loans may predate the window.
        s = (self.score - 650) / 50.0
        takes_loan = rng.random(n) < 0.06 + 0.14 * _sigmoid(s)
        j_open = rng.integers(w0 - 6 * 31 * DAY, w_end - 31 * DAY, n)
        j_open = np.maximum(j_open, self.registered + 30 * DAY + rng.integers(0, DAY, n))
        j_term = JIEBEI_TERMS[rng.integers(0, 4, n)]
        j_open_month = win.month_of(j_open)
        ended_before = j_open_month + j_term < 0  # last instalment billed before the window
        j_cust = np.flatnonzero(takes_loan & (j_open < w_end) & ~ended_before)

        self.acct_customer = np.concatenate([h_cust, j_cust])
        self.is_jiebei = np.concatenate([np.zeros(len(h_cust), bool), np.ones(len(j_cust), bool)])
        self.opened = np.concatenate([h_open[h_cust], j_open[j_cust]])
        a = len(self.acct_customer)
        self.closed = np.full(a, NEVER, dtype=np.int64)
        self.due_day = rng.choice([9, 10], a)
        acct_score = self.score[self.acct_customer]
        limit_yuan = 2000 * np.exp((acct_score - 600) / 90 + rng.normal(0, 0.5, a))
        limit_yuan = np.clip(np.rint(limit_yuan / 100) * 100, 500, 50_000)
        loan_yuan = np.clip(np.rint(rng.lognormal(np.log(6000), 0.7, a) / 100) * 100, 500, 200_000)
        self.limit_cents = np.where(self.is_jiebei, loan_yuan, limit_yuan).astype(np.int64) * 100
        self.term = np.where(self.is_jiebei, j_term[self.acct_customer], 0)
        # Instalments repay principal plus a flat annual rate of 12 %.
        self.total_cents = np.where(self.is_jiebei, np.rint(self.limit_cents * (1 + 0.12 * self.term / 12)), 0).astype(
            np.int64
        )
        self.instalment_cents = np.where(self.is_jiebei, self.total_cents // np.maximum(self.term, 1), 0)
        # Instalment k of a loan is billed in month open_month + k (earlier ones count as paid).
        self.open_month = win.month_of(self.opened)
        self.huabei_of_customer = np.full(n, -1, dtype=np.int64)
        self.huabei_of_customer[h_cust] = np.arange(len(h_cust))


class Simulation:
    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.win = Window(cfg.first_month, cfg.months)
        self.pop = Population(cfg, self.win, self.rng)
        a, n = len(self.pop.acct_customer), cfg.customers
        self.arrears = np.zeros(a, dtype=np.int64)  # billed, past due, unpaid
        self.unbilled = np.zeros(a, dtype=np.int64)  # HUABEI spending to be billed next month
        self.close_plan = np.full(a, NEVER, dtype=np.int64)
        self.consented = np.full(n, NEVER, dtype=np.int64)  # HUABEI (or ALL) authorization
        self.first_invited = np.full(n, NEVER, dtype=np.int64)
        self.opts_out = np.zeros(n, dtype=bool)
        self.next_id = {"agreement": 0, "invitation": 0, "bill": 0, "repayment": 0}
        pre = self.pop.open_month < 0
        # Spending of the month before the window is the first month's HUABEI bill.
        self.unbilled[pre & ~self.pop.is_jiebei] = self._spend(np.flatnonzero(pre & ~self.pop.is_jiebei))

    def _ids(self, kind: str, count: int) -> np.ndarray:
        start = self.next_id[kind]
        self.next_id[kind] += count
        return np.arange(start, start + count, dtype=np.int64)

    def _spend(self, idx: np.ndarray) -> np.ndarray:
        spends = self.rng.random(len(idx)) < 0.82
        share = self.rng.beta(1.3, 5.0, len(idx))
        return np.where(spends, np.rint(self.pop.limit_cents[idx] * share), 0).astype(np.int64)

    def _times_in(self, m: int, count: int, lo: np.ndarray | int = 0) -> np.ndarray:
        """Random local times in month m, not before lo."""
        lo = np.maximum(lo, self.win.start(m))
        hi = self.win.end(m)
        return lo + (self.rng.random(count) * np.maximum(hi - lo, 1)).astype(np.int64)

    # ---- one month -------------------------------------------------------------------------
    def month(self, m: int) -> dict[str, pd.DataFrame]:
        pop, win, rng = self.pop, self.win, self.rng
        start, end = win.start(m), win.end(m)
        agreements: list[pd.DataFrame] = []
        customers = self._customers(m, start, end)
        if m == 0:
            agreements.append(self._sesame_agreements(self.pop.registered < end))
        else:
            agreements.append(self._sesame_agreements((pop.registered >= start) & (pop.registered < end)))

        active = (pop.opened < end) & (pop.closed >= start)
        opened_now = (pop.opened >= start) & (pop.opened < end) if m > 0 else (pop.opened < end)
        agreements.append(self._opening_agreements(np.flatnonzero(opened_now)))

        bills, due_now, due_t = self._bills(m, start, active)
        repayments, paid, pay_t = self._repayments(m, start, end, active, due_now, due_t)
        self.arrears = self.arrears + due_now - paid
        self._close_settled_loans(m, pay_t, active)

        open_at_end = active & (pop.closed >= end)
        spenders = np.flatnonzero(open_at_end & ~pop.is_jiebei & (self.arrears == 0))
        self.unbilled[:] = 0
        self.unbilled[spenders] = self._spend(spenders)
        # Accounts opening this month spend only part of it.
        new = opened_now[spenders] if m > 0 else np.zeros(len(spenders), bool)
        self.unbilled[spenders[new]] = (self.unbilled[spenders[new]] * rng.random(new.sum()) * 0.8).astype(np.int64)

        invitations, agreements_rollout = self._rollout(m, start, end)
        agreements.append(agreements_rollout)
        snapshots = self._snapshots(m, active)
        accounts = self._accounts(m, start, end, opened_now)
        return {
            "customers": customers,
            "accounts": accounts,
            "agreements": pd.concat(agreements, ignore_index=True),
            "invitations": invitations,
            "bills": bills,
            "repayments": repayments,
            "account_snapshots": snapshots,
        }

    def _customers(self, m: int, start: int, end: int) -> pd.DataFrame:
        pop, rng = self.pop, self.rng
        registered = pop.registered < end
        new = registered if m == 0 else registered & (pop.registered >= start)
        # Scores drift: a tenth of the base is re-scored each month, pulled towards the mean.
        drift = registered & ~new & (rng.random(len(registered)) < 0.10)
        idx = np.flatnonzero(drift)
        change = np.rint(rng.normal(0, 14, len(idx)) + 0.05 * (650 - pop.score[idx])).astype(np.int64)
        pop.score[idx] = np.clip(pop.score[idx] + change, 350, 950)
        updated = np.where(new, pop.registered, 0)
        updated[idx] = self._times_in(m, len(idx))
        rows = np.flatnonzero(new | drift)
        return pd.DataFrame(
            {
                "customer_id": rows,
                "id_number": pop.id_number[rows],
                "full_name": pop.name[rows],
                "phone": pop.phone[rows],
                "birth_date": pop.birth_days[rows],
                "gender": np.where(pop.male[rows], "M", "F"),
                "province_code": pop.province[rows],
                "registered_at": pop.registered[rows],
                "sesame_score": pop.score[rows],
                "updated_at": updated[rows],
            }
        )

    def _agreement_frame(self, cust, product, code, version, signed, channel) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "agreement_id": self._ids("agreement", len(cust)),
                "customer_id": cust,
                "product": product,
                "document_code": code,
                "document_version": version,
                "signed_at": signed,
                "channel": channel,
            }
        )

    def _sesame_agreements(self, mask: np.ndarray) -> pd.DataFrame:
        cust = np.flatnonzero(mask)
        return self._agreement_frame(cust, "ALL", "SESAME_SERVICE", "2019.01", self.pop.registered[cust], "APP")

    def _opening_agreements(self, accts: np.ndarray) -> pd.DataFrame:
        pop = self.pop
        h, j = accts[~pop.is_jiebei[accts]], accts[pop.is_jiebei[accts]]
        signed_j = pop.opened[j] - 60  # the loan contract includes the authorization (R4)
        return pd.concat(
            [
                self._agreement_frame(
                    pop.acct_customer[h], "HUABEI", "HUABEI_SERVICE", "2020.03", pop.opened[h] - 60, "APP"
                ),
                self._agreement_frame(
                    pop.acct_customer[j], "JIEBEI", "LOAN_CONTRACT", "2022.01", signed_j, "LOAN_CONTRACT"
                ),
                self._agreement_frame(
                    pop.acct_customer[j], "JIEBEI", "CREDIT_REPORTING_AUTH", "2022.01", signed_j, "LOAN_CONTRACT"
                ),
            ],
            ignore_index=True,
        )

    def _bills(self, m: int, start: int, active: np.ndarray):
        """Statements on the 1st, due the 9th or 10th: HUABEI last month's spend, JIEBEI instalments."""
        pop = self.pop
        a = len(active)
        due_now = np.zeros(a, dtype=np.int64)
        opened_before = pop.opened < start
        billable = active & opened_before & (pop.closed >= start)
        h = billable & ~pop.is_jiebei & (self.unbilled > 0)
        due_now[h] = self.unbilled[h]
        k = m - pop.open_month  # instalment number due this month
        j = billable & pop.is_jiebei & (k >= 1) & (k <= pop.term)
        last = j & (k == pop.term)
        due_now[j] = pop.instalment_cents[j]
        due_now[last] = pop.total_cents[last] - pop.instalment_cents[last] * (pop.term[last] - 1)
        idx = np.flatnonzero(h | j)
        due_t = start + (pop.due_day - 1) * DAY  # midnight starting the due day
        start_day = start // DAY
        bills = pd.DataFrame(
            {
                "bill_id": self._ids("bill", len(idx)),
                "account_id": idx,
                "bill_month": start_day,
                "statement_date": start_day,
                "due_date": start_day + pop.due_day[idx] - 1,
                "amount_due": due_now[idx],
            }
        )
        return bills, due_now, due_t

    def _repayments(self, m, start, end, active, due_now, due_t):
        """Most pay on time, some late within the month (M), some miss and roll (1..7), some cure."""
        pop, rng = self.pop, self.rng
        a = len(active)
        score = pop.score[pop.acct_customer]
        s = (score - 650) / 100.0
        owed = self.arrears + due_now
        u = rng.random(a)
        p_miss = np.clip(0.03 * np.exp(-1.3 * s), 0.003, 0.3)
        p_late = 0.06
        p_cure = np.clip(0.35 + 0.15 * s, 0.1, 0.7)
        current = self.arrears == 0
        on_time = current & (u >= p_miss + p_late)
        late = current & (u >= p_miss) & (u < p_miss + p_late)
        missed = current & (u < p_miss)
        cure = ~current & (u < p_cure)
        partial_cure = ~current & (u >= p_cure) & (u < p_cure + 0.25)

        paid = np.zeros(a, dtype=np.int64)
        paid[on_time | late | cure] = owed[on_time | late | cure]
        paid[partial_cure] = np.rint(self.arrears[partial_cure] * rng.uniform(0.3, 0.7, partial_cure.sum()))
        partial_miss = missed & (rng.random(a) < 0.3)
        paid[partial_miss] = np.rint(due_now[partial_miss] * rng.uniform(0.1, 0.6, partial_miss.sum()))

        day = rng.random(a)
        pay_t = np.where(
            on_time,
            start + (day * (pop.due_day * DAY - DAY // 2)).astype(np.int64),  # by the due day's end
            np.where(
                late,
                due_t + DAY + (day * 12 * DAY).astype(np.int64),
                start + (day * (end - start - 900)).astype(np.int64),
            ),
        )
        # Settlements before a planned closure (opting out, churn) override the behaviour.
        closing = active & (self.close_plan >= start) & (self.close_plan < end)
        paid[closing] = owed[closing]
        pay_t[closing] = self.close_plan[closing] - 600
        pop.closed[closing] = self.close_plan[closing]

        payer = np.flatnonzero(active & (paid > 0))
        utc = rng.random(len(payer)) < 0.15  # the payment gateway exports UTC
        repayments = pd.DataFrame(
            {
                "repayment_id": self._ids("repayment", len(payer)),
                "account_id": payer,
                "paid_at": pay_t[payer],
                "paid_at" + UTC_SUFFIX: utc,
                "amount": paid[payer],
            }
        )
        paid[~active] = 0
        return repayments, paid, pay_t

    def _close_settled_loans(self, m: int, pay_t: np.ndarray, active: np.ndarray) -> None:
        pop = self.pop
        done = active & pop.is_jiebei & (m - pop.open_month >= pop.term) & (self.arrears == 0)
        done &= pop.closed == NEVER
        pop.closed[done] = pay_t[done] + 300

    def _rollout(self, m: int, start: int, end: int):
        """Pre-rollout signers a year early; from the rollout month, one invitation wave a month."""
        pop, rng, cfg = self.pop, self.rng, self.cfg
        n = cfg.customers
        r = cfg.rollout_month - 1
        huabei = pop.huabei_of_customer
        has_open_huabei = huabei >= 0
        h_idx = np.where(has_open_huabei, huabei, 0)
        has_open_huabei &= (pop.opened[h_idx] < start) & (pop.closed[h_idx] >= end)
        not_consented = self.consented == NEVER
        score = pop.score
        invitations = []
        signer_mask = np.zeros(n, bool)
        # About a year before the rollout (or the window's first month if it starts later).
        if max(0, r - 13) <= m <= max(0, r - 10) and m < r:
            early = has_open_huabei & not_consented & (score >= 680) & (rng.random(n) < 0.012)
            signer_mask |= early
        wave = m - r + 1
        if wave >= 1:
            floor = WAVE_SCORE_FLOORS[wave - 1] if wave <= len(WAVE_SCORE_FLOORS) else 0
            eligible = has_open_huabei & not_consented & (self.first_invited == NEVER) & (score >= floor)
            new = np.flatnonzero(eligible)
            invited_at = start + rng.integers(DAY, 20 * DAY, len(new))
            self.first_invited[new] = invited_at
            # A few percent settle and close HUABEI soon after the invitation (R17).
            out = rng.random(len(new)) < np.clip(0.05 - 0.02 * (score[new] - 650) / 100, 0.01, 0.08)
            self.opts_out[new[out]] = True
            self.close_plan[huabei[new[out]]] = invited_at[out] + rng.integers(3 * DAY, 80 * DAY, out.sum())
            again = (
                has_open_huabei & not_consented & ~self.opts_out & (self.first_invited < start) & (rng.random(n) < 0.25)
            )
            re = np.flatnonzero(again)
            re_at = start + rng.integers(DAY, 20 * DAY, len(re))
            cust = np.concatenate([new, re])
            at = np.concatenate([invited_at, re_at])
            invitations.append(
                pd.DataFrame(
                    {
                        "invitation_id": self._ids("invitation", len(cust)),
                        "customer_id": cust,
                        "product": "HUABEI",
                        "wave": wave,
                        "invited_at": at,
                        "channel": np.array(["PUSH", "SMS", "IN_APP"])[rng.integers(0, 3, len(cust))],
                    }
                )
            )
            # Acceptance depends on the score and decays with time since the first invitation.
            months_since = np.clip((start - self.first_invited) // (30 * DAY), 0, 60)
            p = (0.20 + 0.45 * _sigmoid((score - 660) / 40.0)) * 0.6**months_since
            p[re] += 0.08
            invited = (self.first_invited < end) & not_consented & has_open_huabei & ~self.opts_out
            accepts = invited & (rng.random(n) < p)
            signer_mask |= accepts
        signers = np.flatnonzero(signer_mask)
        lo = np.where(self.first_invited[signers] < end, self.first_invited[signers] + 3600, start)
        signed = self._times_in(m, len(signers), lo)
        self.consented[signers] = signed
        early_signer = self.first_invited[signers] == NEVER
        channel = np.where(
            early_signer,
            np.array(["APP", "LIMIT_INCREASE"])[rng.integers(0, 2, len(signers))],
            np.array(["SERVICE_UPGRADE", "LIMIT_INCREASE"])[(rng.random(len(signers)) < 0.3).astype(int)],
        )
        product = np.where(rng.random(len(signers)) < 0.05, "ALL", "HUABEI")
        version = np.where(early_signer, "2023.01", f"{self.win.labels[min(max(r, 0), cfg.months - 1)][:4]}.06")
        # Accepting often comes with a higher credit limit.
        raise_limit = huabei[signers[rng.random(len(signers)) < 0.6]]
        factor = rng.uniform(1.1, 1.5, len(raise_limit))
        pop.limit_cents[raise_limit] = np.rint(pop.limit_cents[raise_limit] * factor / 10_000).astype(np.int64) * 10_000
        # A little churn: customers who close HUABEI, consented or not.
        churn = np.flatnonzero(has_open_huabei & (rng.random(n) < 0.002))
        plan = huabei[churn]
        self.close_plan[plan] = np.minimum(self.close_plan[plan], end + rng.integers(DAY, 25 * DAY, len(plan)))
        inv = invitations[0] if invitations else self._empty("invitations")
        agr = self._agreement_frame(signers, product, "CREDIT_REPORTING_AUTH", version, signed, channel)
        return inv, agr

    def _empty(self, name: str) -> pd.DataFrame:
        columns = {"invitations": ["invitation_id", "customer_id", "product", "wave", "invited_at", "channel"]}
        frame = pd.DataFrame({c: pd.Series(dtype=np.int64) for c in columns[name]})
        return frame.astype({"product": str, "channel": str})

    def _snapshots(self, m: int, active: np.ndarray) -> pd.DataFrame:
        pop = self.pop
        idx = np.flatnonzero(active)
        k = np.clip(m - pop.open_month[idx], 0, pop.term[idx])
        future = np.where(pop.is_jiebei[idx], pop.total_cents[idx] - pop.instalment_cents[idx] * k, 0)
        future = np.where(pop.is_jiebei[idx] & (k >= pop.term[idx]), 0, future)
        balance = np.where(pop.is_jiebei[idx], self.arrears[idx] + future, self.arrears[idx] + self.unbilled[idx])
        balance = np.where(pop.closed[idx] < self.win.end(m), 0, balance)
        return pd.DataFrame(
            {
                "account_id": idx,
                "snapshot_month": int(self.win.start_days[m]),
                "credit_limit": pop.limit_cents[idx],
                "outstanding_balance": balance,
            }
        )

    def _accounts(self, m: int, start: int, end: int, opened_now: np.ndarray) -> pd.DataFrame:
        pop = self.pop
        closed_now = (pop.closed >= start) & (pop.closed < end)
        rows = np.flatnonzero(opened_now | closed_now)
        is_closed = pop.closed[rows] < end
        jiebei = pop.is_jiebei[rows]
        return pd.DataFrame(
            {
                "account_id": rows,
                "customer_id": pop.acct_customer[rows],
                "product": np.where(pop.is_jiebei[rows], "JIEBEI", "HUABEI"),
                "opened_at": pop.opened[rows],
                "closed_at": pd.arrays.IntegerArray(pop.closed[rows], ~is_closed),
                "loan_amount": pd.arrays.IntegerArray(pop.limit_cents[rows], ~jiebei),
                "term_months": pd.arrays.IntegerArray(pop.term[rows].astype(np.int64), ~jiebei),
                "updated_at": np.where(is_closed, pop.closed[rows], pop.opened[rows]),
            }
        )


def generate_landing(cfg: GeneratorConfig, out: Path, progress: Callable[[str], None] | None = None) -> list[str]:
    """Write every batch of the window under `out`; returns the batch months written."""
    sim = Simulation(cfg)
    out.mkdir(parents=True, exist_ok=True)
    dirt_rng = np.random.default_rng([cfg.seed, 1])  # its own stream: dirty data keeps the clean dynamics
    kinds = list(cfg.dirty_kinds or DEFECTS)
    injected: dict[str, dict[str, int]] = {}

    def make_dirty(folder: Path) -> None:
        injected[folder.name] = inject(folder, dirt_rng, cfg.dirty_rate, kinds)

    for m, label in enumerate(sim.win.labels):
        frames = sim.month(m)
        produced = str(np.datetime64(label, "M") + 1) + "-01T02:00:00+08:00"
        write_batch(
            out / label,
            label,
            produced,
            frames,
            cfg.encoding,
            cfg.file_format,
            before_signing=make_dirty if cfg.dirty_rate else None,
        )
        if progress:
            progress(label)
    if cfg.dirty_rate:
        write_defect_log(out, injected)
    return sim.win.labels
