-- The benchmark's baseline, first half: every landing batch's CSV files into raw.<file>, typed, with
-- the batch month taken from the folder name. No manifest, no checks, no quarantine: the engine's
-- own speed for the same files. {landing} is replaced by the landing folder before running.
-- (_source_row, the loader's line number, only breaks ties between duplicates in one batch, which
-- clean data has none of: 0 here.)
create schema if not exists raw;

create or replace macro batch_month_of(path) as
    cast(regexp_extract(path, '(\d{4}-\d{2})/[^/]+$', 1) || '-01' as date);

create or replace table raw.customers as
select * exclude (filename), batch_month_of(filename) as _batch_month, 0 as _source_row
from read_csv('{landing}/*/customers.csv', header = true, filename = true, columns = {
    'customer_id': 'VARCHAR', 'id_number': 'VARCHAR', 'full_name': 'VARCHAR', 'phone': 'VARCHAR',
    'birth_date': 'DATE', 'gender': 'VARCHAR', 'province_code': 'VARCHAR', 'registered_at': 'TIMESTAMPTZ',
    'sesame_score': 'INTEGER', 'updated_at': 'TIMESTAMPTZ'});

create or replace table raw.accounts as
select * exclude (filename), batch_month_of(filename) as _batch_month, 0 as _source_row
from read_csv('{landing}/*/accounts.csv', header = true, filename = true, columns = {
    'account_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'product': 'VARCHAR', 'opened_at': 'TIMESTAMPTZ',
    'closed_at': 'TIMESTAMPTZ', 'loan_amount': 'DECIMAL(18,2)', 'term_months': 'INTEGER',
    'updated_at': 'TIMESTAMPTZ'});

create or replace table raw.agreements as
select * exclude (filename), batch_month_of(filename) as _batch_month, 0 as _source_row
from read_csv('{landing}/*/agreements.csv', header = true, filename = true, columns = {
    'agreement_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'product': 'VARCHAR', 'document_code': 'VARCHAR',
    'document_version': 'VARCHAR', 'signed_at': 'TIMESTAMPTZ', 'channel': 'VARCHAR'});

create or replace table raw.invitations as
select * exclude (filename), batch_month_of(filename) as _batch_month, 0 as _source_row
from read_csv('{landing}/*/invitations.csv', header = true, filename = true, columns = {
    'invitation_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'product': 'VARCHAR', 'wave': 'INTEGER',
    'invited_at': 'TIMESTAMPTZ', 'channel': 'VARCHAR'});

create or replace table raw.bills as
select * exclude (filename, bill_month), cast(bill_month || '-01' as date) as bill_month,
    batch_month_of(filename) as _batch_month, 0 as _source_row
from read_csv('{landing}/*/bills.csv', header = true, filename = true, columns = {
    'bill_id': 'VARCHAR', 'account_id': 'VARCHAR', 'bill_month': 'VARCHAR', 'statement_date': 'DATE',
    'due_date': 'DATE', 'amount_due': 'DECIMAL(18,2)'});

create or replace table raw.repayments as
select * exclude (filename), batch_month_of(filename) as _batch_month, 0 as _source_row
from read_csv('{landing}/*/repayments.csv', header = true, filename = true, columns = {
    'repayment_id': 'VARCHAR', 'account_id': 'VARCHAR', 'paid_at': 'TIMESTAMPTZ', 'amount': 'DECIMAL(18,2)'});

create or replace table raw.account_snapshots as
select * exclude (filename, snapshot_month), cast(snapshot_month || '-01' as date) as snapshot_month,
    batch_month_of(filename) as _batch_month, 0 as _source_row
from read_csv('{landing}/*/account_snapshots.csv', header = true, filename = true, columns = {
    'account_id': 'VARCHAR', 'snapshot_month': 'VARCHAR', 'credit_limit': 'DECIMAL(18,2)',
    'outstanding_balance': 'DECIMAL(18,2)'});
