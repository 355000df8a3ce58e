--
-- tam_time_travel: a ttpdb table keeps every version, and ttpdb.as_of,
-- ttpdb.as_of() and ttpdb.history() read them back.  Instants are taken
-- from ttpdb.commit_times (the stamp of the last commit), so the expected
-- output holds no clock readings.
--
SET search_path = public, ttpdb;
-- (earlier tests may have stamped transactions too)
SELECT count(*) AS stamps_before FROM ttpdb.commit_times \gset

CREATE TABLE account (id int PRIMARY KEY, owner text NOT NULL, balance numeric NOT NULL)
	USING ttpdb;
CREATE TABLE branch_office (account_id int, city text) USING ttpdb;
SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = 'account'::regclass;

INSERT INTO account VALUES (1, 'alice', 100), (2, 'bob', 50);
SELECT max(committed_at) AS t0 FROM ttpdb.commit_times \gset
INSERT INTO branch_office VALUES (1, 'Lyon'), (2, 'Oslo');
SELECT max(committed_at) AS t1 FROM ttpdb.commit_times \gset
UPDATE account SET balance = balance - 30 WHERE id = 1;
SELECT max(committed_at) AS t_update FROM ttpdb.commit_times \gset
UPDATE branch_office SET city = 'Paris' WHERE account_id = 1;
SELECT max(committed_at) AS t2 FROM ttpdb.commit_times \gset
DELETE FROM account WHERE id = 2;
SELECT max(committed_at) AS t3 FROM ttpdb.commit_times \gset

-- Stamps follow commit order.
SELECT count(*) - :stamps_before AS stamps, bool_and(committed_at IS NOT NULL) AS all_stamped
FROM ttpdb.commit_times;

-- The present.
SELECT * FROM account ORDER BY id;

-- Every query reads as of ttpdb.as_of, joins included.
SET ttpdb.as_of = :'t1';
SELECT * FROM account ORDER BY id;
SELECT a.owner, a.balance, b.city FROM account a JOIN branch_office b ON b.account_id = a.id
ORDER BY a.id;
SET ttpdb.as_of = :'t2';
SELECT a.owner, a.balance, b.city FROM account a JOIN branch_office b ON b.account_id = a.id
ORDER BY a.id;
SET ttpdb.as_of = :'t3';
SELECT * FROM account ORDER BY id;
RESET ttpdb.as_of;

-- Before the first commit there was nothing.
SELECT count(*) FROM ttpdb.as_of(NULL::account, :'t0'::timestamptz - interval '1 microsecond');
SELECT count(*) FROM ttpdb.as_of(NULL::account, :'t0');

-- The function form, in a join and in a view.
SELECT * FROM ttpdb.as_of(NULL::account, :'t1') ORDER BY id;
SELECT p.id, p.balance AS then, a.balance AS now
FROM ttpdb.as_of(NULL::account, :'t1') p LEFT JOIN account a USING (id) ORDER BY p.id;
CREATE VIEW rich AS SELECT id, owner FROM account WHERE balance > 60;
SELECT * FROM rich ORDER BY id;
SET ttpdb.as_of = :'t1';
SELECT * FROM rich ORDER BY id;
RESET ttpdb.as_of;

-- Indexes are set aside while reading the past, and cached plans follow.
EXPLAIN (COSTS OFF) SELECT * FROM account WHERE id = 1;
PREPARE one_account(int) AS SELECT balance FROM account WHERE id = $1;
EXECUTE one_account(1);
SET ttpdb.as_of = :'t1';
EXPLAIN (COSTS OFF) SELECT * FROM account WHERE id = 1;
EXECUTE one_account(1);
RESET ttpdb.as_of;
EXECUTE one_account(1);
DEALLOCATE one_account;

-- The past cannot be written, locked or truncated.
SET ttpdb.as_of = :'t1';
INSERT INTO account VALUES (3, 'carol', 1);
UPDATE account SET balance = 0;
DELETE FROM account;
SELECT * FROM account FOR UPDATE;
TRUNCATE account;
COPY account FROM stdin;
3	carol	1
\.
SELECT count(*) FROM account TABLESAMPLE SYSTEM (100);
RESET ttpdb.as_of;

-- Settings that are not a point in the past.
SET ttpdb.as_of = 'yesterday-ish';
SET ttpdb.as_of = 'infinity';
SET ttpdb.as_of = '9999-01-01';
SELECT * FROM account;
RESET ttpdb.as_of;

-- Every version, with its validity.
SELECT (version).id, (version).balance,
	valid_from IS NOT NULL AS from_known, valid_to IS NOT NULL AS ended,
	valid_to > valid_from AS ordered, ended_xid IS NOT NULL AS has_ender
FROM ttpdb.history(NULL::account)
ORDER BY (version).id, valid_from;
SELECT (SELECT valid_to FROM ttpdb.history(NULL::account) WHERE (version).balance = 100) = :'t_update'
	AS ended_at_update_commit;

-- A rolled-back change leaves no history; a version created and changed in
-- one transaction was never visible and is not kept.
SELECT count(*) AS kept FROM ttpdb.history(NULL::account) WHERE valid_to IS NOT NULL;
BEGIN;
UPDATE account SET balance = 1;
ROLLBACK;
BEGIN;
INSERT INTO account VALUES (7, 'temp', 1);
UPDATE account SET balance = 2 WHERE id = 7;
DELETE FROM account WHERE id = 7;
COMMIT;
BEGIN;
UPDATE account SET balance = 71 WHERE id = 1;
SAVEPOINT s;
UPDATE account SET balance = 72 WHERE id = 1;
ROLLBACK TO s;
COMMIT;
SELECT count(*) AS kept FROM ttpdb.history(NULL::account) WHERE valid_to IS NOT NULL;
SELECT * FROM account ORDER BY id;

-- ON CONFLICT DO UPDATE and MERGE keep what they replace.
INSERT INTO account VALUES (1, 'alice', 500) ON CONFLICT (id) DO UPDATE SET balance = excluded.balance;
MERGE INTO account a USING (VALUES (1, 600), (9, 9)) v(id, balance) ON a.id = v.id
	WHEN MATCHED THEN UPDATE SET balance = v.balance
	WHEN NOT MATCHED THEN INSERT VALUES (v.id, 'new', v.balance);
SELECT (version).balance FROM ttpdb.history(NULL::account) WHERE (version).id = 1
ORDER BY valid_from NULLS LAST;

-- TRUNCATE keeps the rows it removes.
SELECT max(committed_at) AS t4 FROM ttpdb.commit_times \gset
TRUNCATE account;
SELECT count(*) AS now FROM account;
SELECT * FROM ttpdb.as_of(NULL::account, :'t4') ORDER BY id;

-- Statistics of the temporal store.
SELECT table_name, versions, stored_bytes > 0 AS has_bytes, compression_ratio > 0 AS ratio_ok
FROM ttpdb.history_stats WHERE table_name = 'account'::regclass;

-- Explicit retention: only the owner, only what ended before the time.
SELECT ttpdb.prune_history('account', :'t2');
SELECT count(*) AS left_after_prune FROM ttpdb.history(NULL::account) WHERE valid_to IS NOT NULL;
SELECT * FROM ttpdb.as_of(NULL::account, :'t1') ORDER BY id;
CREATE ROLE ttpdb_reader;
GRANT USAGE ON SCHEMA ttpdb TO ttpdb_reader;
SET ROLE ttpdb_reader;
SELECT ttpdb.prune_history('account', now());
SELECT count(*) FROM ttpdb.history(NULL::account);
SELECT count(*) FROM ttpdb.history;
RESET ROLE;

-- Wrong arguments.
CREATE TABLE plain_heap (id int) USING heap;
SELECT * FROM ttpdb.as_of(NULL::plain_heap, now());
SELECT * FROM ttpdb.history(NULL::plain_heap);
SELECT * FROM ttpdb.as_of(NULL::int, now());
SELECT * FROM ttpdb.as_of(NULL::account, NULL);
SELECT ttpdb.prune_history('plain_heap', now());

-- Reading the past inside a transaction that has written: each version
-- once (the heap still holds what this transaction replaced).
CREATE TABLE ledger (id int PRIMARY KEY, v int) USING ttpdb;
INSERT INTO ledger VALUES (1, 1), (2, 2);
SELECT max(committed_at) AS t_ledger FROM ttpdb.commit_times \gset
BEGIN;
UPDATE ledger SET v = 10 WHERE id = 1;
SET LOCAL ttpdb.as_of = :'t_ledger';
SELECT * FROM ledger ORDER BY id;
COMMIT;

-- DDL reads the present while ttpdb.as_of is set: a constraint is checked
-- against today's rows, an index built from them, and ttpdb.history()
-- still lists the present as present.
INSERT INTO ledger VALUES (3, -5);
SET ttpdb.as_of = :'t_ledger';
ALTER TABLE ledger ADD CONSTRAINT positive CHECK (v > 0);
CREATE INDEX ledger_v ON ledger (v);
SELECT count(*) AS present_rows FROM ttpdb.history(NULL::ledger) WHERE valid_to IS NULL;
SELECT * FROM ledger ORDER BY id;
RESET ttpdb.as_of;
SELECT count(*) FROM ledger WHERE v > 0;

-- A dropped table's history goes with it.
SELECT count(*) > 0 AS has_history FROM ttpdb.history_stats WHERE table_name = 'ledger'::regclass;
SELECT 'ledger'::regclass::oid AS ledger_oid \gset
DROP TABLE ledger;
SELECT count(*) AS left_behind FROM ttpdb.history_stats WHERE table_name::oid = :ledger_oid;

DROP VIEW rich;
DROP TABLE account, branch_office, plain_heap;
REVOKE USAGE ON SCHEMA ttpdb FROM ttpdb_reader;
DROP ROLE ttpdb_reader;
