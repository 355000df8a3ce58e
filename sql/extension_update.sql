-- ALTER EXTENSION ttpdb UPDATE from every earlier release to the current
-- one, with data written under the old version kept and readable.
DROP EXTENSION ttpdb CASCADE;
CREATE EXTENSION ttpdb VERSION '0.1';
SELECT extversion FROM pg_extension WHERE extname = 'ttpdb';
SET search_path = public, ttpdb;
CREATE TABLE old_account (id int PRIMARY KEY, balance numeric) USING ttpdb;
INSERT INTO old_account VALUES (1, 100), (2, 200);
UPDATE old_account SET balance = 150 WHERE id = 1;
-- the 0.1 objects refuse what the newer library cannot answer with them
SELECT count(*) FROM ttpdb.history(NULL::old_account);

ALTER EXTENSION ttpdb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ttpdb';
SELECT ttpdb.library_version() = (SELECT extversion FROM pg_extension WHERE extname = 'ttpdb')
	AS library_matches;

-- versions kept under 0.1 read back, without log entries
SELECT (version).id, (version).balance, valid_to IS NULL AS current, created_entry, ended_entry
FROM ttpdb.history(NULL::old_account) ORDER BY (version).id, valid_from;
-- from now on statements are logged
UPDATE old_account SET balance = 250 WHERE id = 2;
SELECT kind, statement FROM ttpdb.log ORDER BY entry;
SELECT (version).id, (version).balance, created_entry IS NOT NULL AS has_created_entry,
	ended_entry IS NOT NULL AS has_ended_entry
FROM ttpdb.history(NULL::old_account) WHERE (version).id = 2 ORDER BY valid_from;
SELECT first_broken_entry IS NULL AS intact FROM ttpdb.verify();
SELECT count(*) AS problems FROM ttpdb.log_consistency();

-- the update path is the installation path: the same objects either way
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'ttpdb' AND d.deptype = 'e';
DROP TABLE old_account;
DROP EXTENSION ttpdb;
CREATE EXTENSION ttpdb;
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'ttpdb' AND d.deptype = 'e';

-- from 0.2 (the log) to 0.3 (branches, replay, amend): the log written
-- under 0.2 carries on, and the new functions read it
DROP EXTENSION ttpdb;
CREATE EXTENSION ttpdb VERSION '0.2';
CREATE TABLE old_ledger (id int PRIMARY KEY, amount numeric NOT NULL) USING ttpdb;
INSERT INTO old_ledger VALUES (1, 10), (2, 20);
UPDATE old_ledger SET amount = 15 WHERE id = 1;
ALTER EXTENSION ttpdb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ttpdb';
SELECT entry - min(entry) OVER () + 1 AS entry, kind, statement FROM ttpdb.log ORDER BY entry;
SELECT name, version - min(entry) OVER () + 1 AS version, how FROM ttpdb.name_history ORDER BY entry;
SELECT * FROM ttpdb.branch('after_update');
UPDATE after_update.old_ledger SET amount = 30 WHERE id = 2;
SELECT * FROM after_update.old_ledger ORDER BY id;
SELECT replayed, count(*) FROM ttpdb.replay('old_replayed', tables => '{old_ledger}') GROUP BY 1 ORDER BY 1;
SELECT * FROM old_replayed.old_ledger ORDER BY id;
SELECT first_broken_entry IS NULL AS intact FROM ttpdb.verify();
SELECT count(*) AS problems FROM ttpdb.log_consistency();
SELECT ttpdb.drop_branch('after_update');
DROP SCHEMA old_replayed CASCADE;
DROP TABLE old_ledger;
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'ttpdb' AND d.deptype = 'e';

-- from 0.3 to 0.4 (packed history): versions kept as single rows under 0.3
-- pack, and read back the same
DROP EXTENSION ttpdb;
CREATE EXTENSION ttpdb VERSION '0.3';
-- the new library packs at commit only once the update made somewhere to
-- pack to; until then it reads and writes the 0.3 store as 0.3 did
SET ttpdb.pack_after = 1;
CREATE TABLE old_stock (id int PRIMARY KEY, qty int NOT NULL) USING ttpdb;
INSERT INTO old_stock VALUES (1, 5), (2, 7);
UPDATE old_stock SET qty = qty - 1;
SELECT max(committed_at) AS t_update FROM ttpdb.commit_times \gset
DELETE FROM old_stock WHERE id = 2;
SELECT count(*) AS versions FROM ttpdb.history(NULL::old_stock);
SELECT * FROM ttpdb.as_of(NULL::old_stock, :'t_update') ORDER BY id;
SELECT ttpdb.prune_history('old_stock', '-infinity');
RESET ttpdb.pack_after;
ALTER EXTENSION ttpdb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ttpdb';
SELECT ttpdb.pack_history('old_stock');
SELECT versions, packed_versions FROM ttpdb.history_stats;
SELECT * FROM ttpdb.as_of(NULL::old_stock, :'t_update') ORDER BY id;
SELECT (version).id, (version).qty, valid_to IS NULL AS current
FROM ttpdb.history(NULL::old_stock) ORDER BY (version).id, valid_from;
DROP TABLE old_stock;
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'ttpdb' AND d.deptype = 'e';

-- from 0.4 to 0.5 (column type changes convert the history): under 0.4 the
-- event trigger refuses the change; after the update it converts
DROP EXTENSION ttpdb;
CREATE EXTENSION ttpdb VERSION '0.4';
CREATE TABLE old_meter (id int PRIMARY KEY, reading int) USING ttpdb;
INSERT INTO old_meter VALUES (1, 100);
SELECT max(committed_at) AS t_meter FROM ttpdb.commit_times \gset
UPDATE old_meter SET reading = 150;
ALTER TABLE old_meter ALTER COLUMN reading TYPE numeric;
ALTER EXTENSION ttpdb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ttpdb';
ALTER TABLE old_meter ALTER COLUMN reading TYPE numeric USING reading / 100.0;
SELECT * FROM ttpdb.as_of(NULL::old_meter, :'t_meter');
SELECT (version).reading, valid_to IS NULL AS current FROM ttpdb.history(NULL::old_meter)
ORDER BY valid_from, valid_to NULLS LAST;
DROP TABLE old_meter;
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'ttpdb' AND d.deptype = 'e';

-- from 0.5 to 0.6 (two-phase commit): under 0.5 PREPARE TRANSACTION after a
-- ttpdb write is refused, with the way out; after the update it prepares
DROP EXTENSION ttpdb;
CREATE EXTENSION ttpdb VERSION '0.5';
CREATE TABLE old_order (id int PRIMARY KEY, qty int) USING ttpdb;
BEGIN;
INSERT INTO old_order VALUES (1, 1);
PREPARE TRANSACTION 'old_order';
ALTER EXTENSION ttpdb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ttpdb';
BEGIN;
INSERT INTO old_order VALUES (1, 2);
PREPARE TRANSACTION 'old_order';
COMMIT PREPARED 'old_order';
SELECT * FROM old_order;
SELECT count(*) AS stamped FROM ttpdb.commit_times
WHERE committed_at > '-infinity' AND committed_at < 'infinity';
DROP TABLE old_order;
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'ttpdb' AND d.deptype = 'e';

-- from 0.6 to 0.7: the event triggers fire in sessions with
-- session_replication_role = replica too
DROP EXTENSION ttpdb;
CREATE EXTENSION ttpdb VERSION '0.6';
SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname LIKE 'ttpdb%' ORDER BY evtname;
ALTER EXTENSION ttpdb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ttpdb';
SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname LIKE 'ttpdb%' ORDER BY evtname;
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'ttpdb' AND d.deptype = 'e';

-- from 0.7 to 0.8: the ceiling of the stamps (ttpdb.stamp_ceiling) replaces
-- commit_times_committed_at_idx; a transaction's subtransactions are found
-- through a partial index that holds only their rows
DROP EXTENSION ttpdb;
CREATE EXTENSION ttpdb VERSION '0.7';
CREATE TABLE old_ledger (id int PRIMARY KEY, amount int) USING ttpdb;
INSERT INTO old_ledger VALUES (1, 10);
BEGIN;
UPDATE old_ledger SET amount = 11;
SAVEPOINT inner_write;
INSERT INTO old_ledger VALUES (2, 20);
RELEASE inner_write;
COMMIT;
SELECT top_xid AS ledger_xact FROM ttpdb.commit_times WHERE top_xid IS NOT NULL \gset
-- not while a prepared transaction holds commit_times (COMMIT PREPARED would
-- wait for the update, which would wait for it)
BEGIN;
UPDATE old_ledger SET amount = 99 WHERE id = 1;
PREPARE TRANSACTION 'old_ledger_pending';
ALTER EXTENSION ttpdb UPDATE;
ROLLBACK PREPARED 'old_ledger_pending';
ALTER EXTENSION ttpdb UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ttpdb';
SELECT ceiling = (SELECT max(committed_at) FROM ttpdb.commit_times) AS ceiling_is_latest_stamp
FROM ttpdb.stamp_ceiling;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
FROM pg_index WHERE indrelid = 'ttpdb.commit_times'::regclass ORDER BY 1;
-- the versions the transaction created and ended, its subtransaction's too
SELECT (version).id, (version).amount, ended_xid IS NULL AS current
FROM ttpdb.history(NULL::old_ledger, :'ledger_xact') ORDER BY 1, 2;
-- a new stamp raises the ceiling past it
UPDATE old_ledger SET amount = 12 WHERE id = 1;
SELECT ceiling > (SELECT max(committed_at) FROM ttpdb.commit_times) AS covered
FROM ttpdb.stamp_ceiling;
DROP TABLE old_ledger;
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'ttpdb' AND d.deptype = 'e';

-- The backend remembers the OIDs of the extension's tables between
-- transactions: dropping and creating the extension again, even in a
-- subtransaction that rolls back, leaves it writing to the tables that exist.
CREATE TABLE kept_account (id int PRIMARY KEY, balance int) USING ttpdb;
INSERT INTO kept_account VALUES (1, 10);
UPDATE kept_account SET balance = 20;
BEGIN;
SAVEPOINT again;
DROP EXTENSION ttpdb CASCADE;
CREATE EXTENSION ttpdb;
CREATE TABLE kept_account (id int PRIMARY KEY, balance int) USING ttpdb;
INSERT INTO kept_account VALUES (1, 100);
UPDATE kept_account SET balance = 200;
SELECT (version).balance, valid_to IS NULL AS current FROM ttpdb.history(NULL::kept_account)
ORDER BY (version).balance;
ROLLBACK TO again;
UPDATE kept_account SET balance = 30;
COMMIT;
SELECT (version).balance, valid_to IS NULL AS current FROM ttpdb.history(NULL::kept_account)
ORDER BY valid_from;
SELECT kind, statement FROM ttpdb.log WHERE 'kept_account'::regclass = ANY (tables) ORDER BY entry;
SELECT first_broken_entry IS NULL AS intact FROM ttpdb.verify();
DROP TABLE kept_account;
