-- Two-phase commit: PREPARE TRANSACTION after ttpdb writes, COMMIT PREPARED
-- stamps the transaction when it commits (not when it was prepared), and
-- numbers its log entries in commit order.
CREATE TABLE wallet (id int PRIMARY KEY, owner text, coins int) USING ttpdb;
INSERT INTO wallet VALUES (1, 'ada', 100), (2, 'bob', 50), (3, 'cyd', 10);

BEGIN;
UPDATE wallet SET coins = coins - 30 WHERE id = 1;
SAVEPOINT give;
UPDATE wallet SET coins = coins + 30 WHERE id = 2;
RELEASE give;
DELETE FROM wallet WHERE id = 3;
INSERT INTO wallet VALUES (4, 'dee', 0);
PREPARE TRANSACTION 'transfer';

-- prepared, not committed: no one sees it, in the present or the past
SELECT gid FROM pg_prepared_xacts;
SELECT * FROM wallet ORDER BY id;
SELECT count(*) AS pending_rows FROM ttpdb.commit_times WHERE committed_at = 'infinity';
SELECT now() AS t_prepared \gset

-- a transaction that commits meanwhile comes first, in time and in the log
INSERT INTO wallet VALUES (9, 'zed', 1);
SELECT max(entry) AS e_between FROM ttpdb.log \gset
SELECT max(committed_at) AS t_between FROM ttpdb.commit_times \gset

-- another session commits it
\c
COMMIT PREPARED 'transfer';
SELECT now() AS t_committed \gset
SELECT * FROM wallet ORDER BY id;
SELECT * FROM ttpdb.as_of(NULL::wallet, :'t_prepared') ORDER BY id;
SELECT * FROM ttpdb.as_of(NULL::wallet, :'t_between') ORDER BY id;
SELECT * FROM ttpdb.as_of(NULL::wallet, :'t_committed') ORDER BY id;

-- one stamp for the transaction and its subtransaction, after the other one
SELECT count(*) AS xids, count(DISTINCT committed_at) AS stamps,
	   min(committed_at) > :'t_between' AS after_between,
	   min(committed_at) < :'t_committed' AS before_commit_returned
FROM ttpdb.commit_times
WHERE committed_at > :'t_between' AND committed_at < :'t_committed';
SELECT entry - :e_between AS after_between, statement_no, statement, committed_at > :'t_between' AS stamped_after
FROM ttpdb.log WHERE entry > :e_between ORDER BY entry;
SELECT count(*) AS left_prepared FROM ttpdb.prepared_writes;
SELECT first_broken_entry, problem FROM ttpdb.verify();

-- the versions it ended and created carry its stamp and its log entries
SELECT (version).id, (version).coins, valid_from > :'t_between' AS created_by_it,
	   valid_to > :'t_between' AS ended_by_it, created_entry > :e_between AS created_entry_its
FROM ttpdb.history(NULL::wallet) WHERE (version).id IN (1, 2, 4) ORDER BY (version).id, valid_from;

-- ROLLBACK PREPARED leaves nothing behind
BEGIN;
UPDATE wallet SET coins = 0;
PREPARE TRANSACTION 'never';
ROLLBACK PREPARED 'never';
SELECT * FROM wallet ORDER BY id;
SELECT count(*) AS pending_rows FROM ttpdb.commit_times WHERE committed_at = 'infinity';
SELECT count(*) AS left_prepared FROM ttpdb.prepared_writes;
SELECT max(entry) = :e_between + 4 AS no_new_entries FROM ttpdb.log;

-- a logged statement that changed no row, alone in a prepared transaction
BEGIN;
UPDATE wallet SET coins = coins + 1 WHERE id = 99;
PREPARE TRANSACTION 'nothing';
COMMIT PREPARED 'nothing';
SELECT statement, rows, committed_at > :'t_committed' AS stamped FROM ttpdb.log ORDER BY entry DESC LIMIT 1;

-- a prepared transaction that wrote only heap tables is not ttpdb's business
CREATE TABLE plain (id int) USING heap;
BEGIN;
INSERT INTO plain VALUES (1);
PREPARE TRANSACTION 'plain';
SELECT count(*) AS left_prepared FROM ttpdb.prepared_writes;
COMMIT PREPARED 'plain';

-- core's own refusals stand
BEGIN;
CREATE TEMP TABLE scratch (id int);
UPDATE wallet SET coins = coins WHERE id = 1;
PREPARE TRANSACTION 'temp';
BEGIN;
COMMIT PREPARED 'transfer';
ROLLBACK;
COMMIT PREPARED 'no such';

-- COMMIT PREPARED whose own transaction fails after the prepared one has
-- committed (here: a forged log entry takes the number it reserved) leaves
-- it committed without a stamp: committed as of no time, until the next
-- transaction that writes a ttpdb table stamps it.
BEGIN;
UPDATE wallet SET coins = coins + 5 WHERE id = 4;
PREPARE TRANSACTION 'unlucky';
CREATE TEMP TABLE forged AS SELECT * FROM ttpdb.log_entries ORDER BY entry DESC LIMIT 1;
UPDATE forged SET entry = entry + 1;
INSERT INTO ttpdb.log_entries SELECT * FROM forged;
\set VERBOSITY terse
COMMIT PREPARED 'unlucky';
\set VERBOSITY default
DELETE FROM ttpdb.log_entries WHERE entry = (SELECT entry FROM forged);
SELECT gid FROM pg_prepared_xacts;
SELECT * FROM wallet WHERE id = 4;
SELECT * FROM ttpdb.as_of(NULL::wallet, now()) WHERE id = 4;
SELECT count(*) AS unstamped FROM ttpdb.commit_times WHERE committed_at = 'infinity';
SELECT gid FROM ttpdb.prepared_writes;
SELECT now() AS t_unstamped \gset
-- while its kept row cannot be read, every writer's commit fails, saying why
CREATE TEMP TABLE kept_writes AS SELECT * FROM ttpdb.prepared_writes;
UPDATE ttpdb.prepared_writes SET entries = array_append(entries, NULL);
INSERT INTO wallet VALUES (5, 'eve', 1);
UPDATE ttpdb.prepared_writes p SET entries = k.entries FROM kept_writes k WHERE p.gid = k.gid;
INSERT INTO wallet VALUES (5, 'eve', 1);
SELECT count(*) AS unstamped FROM ttpdb.commit_times WHERE committed_at = 'infinity';
SELECT count(*) AS left_prepared FROM ttpdb.prepared_writes;
SELECT * FROM ttpdb.as_of(NULL::wallet, :'t_unstamped') WHERE id = 4;
SELECT * FROM ttpdb.as_of(NULL::wallet, now()) WHERE id = 4;
SELECT statement FROM ttpdb.log ORDER BY entry DESC LIMIT 2;
SELECT first_broken_entry, problem FROM ttpdb.verify();

-- a writer that ends a version such a transaction created stamps it first
BEGIN;
UPDATE wallet SET coins = coins + 5 WHERE id = 4;
PREPARE TRANSACTION 'unlucky again';
TRUNCATE forged;
INSERT INTO forged SELECT * FROM ttpdb.log_entries ORDER BY entry DESC LIMIT 1;
UPDATE forged SET entry = entry + 1;
INSERT INTO ttpdb.log_entries SELECT * FROM forged;
\set VERBOSITY terse
COMMIT PREPARED 'unlucky again';
\set VERBOSITY default
DELETE FROM ttpdb.log_entries WHERE entry = (SELECT entry FROM forged);
UPDATE wallet SET coins = 0 WHERE id = 4;
SELECT (h.version).coins, h.valid_from = c.committed_at AS from_its_stamp
FROM ttpdb.history(NULL::wallet) h JOIN ttpdb.commit_times c ON c.xid = h.created_xid
WHERE (h.version).id = 4 ORDER BY h.valid_from;
SELECT count(*) AS unstamped FROM ttpdb.commit_times WHERE committed_at = 'infinity';
SELECT first_broken_entry, problem FROM ttpdb.verify();
DROP TABLE wallet, plain;
