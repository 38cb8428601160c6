-- R18: the coverage cube's cells and how many customer-months each sums (macros/coverage_cells.sql).
-- A monthly run computes its window's months and keeps the months before it, moving only the
-- contributions of customers relabelled since (a wave, a consent, an opt-out): a new month costs that
-- month and the relabelled customers' history, not 24 months. The labels the cells were built with
-- are kept beside them (int_coverage_cells_labels). No personal data (R15).
{{ monthly_incremental(
    'month',
    pre_hook=["{{ delete_rebuilt_months('month') }}", "{{ relabel_kept_coverage_cells() }}"],
    post_hook="{{ keep_coverage_labels() }}",
) }}

select * from {{ coverage_cell_sums(ref('int_customer_product_rollout'), in_rebuild_window('report_month')) }}
