-- The semantic statement log: one entry per statement that changes a ttpdb
-- table, written in the statement's transaction, in commit order.
SET search_path = public, ttpdb;
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
SELECT current_user AS admin \gset

-- Whether the current role may read the bytes a COPY entry loaded.
CREATE FUNCTION try_copy_content(e bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM ttpdb.log_copy_content(e);
	RETURN 'readable';
EXCEPTION WHEN insufficient_privilege THEN
	RETURN 'permission denied';
END
$$;

-- A helper to print the entries since :base without what varies between
-- runs (xids, times, hashes).
CREATE FUNCTION new_entries(since bigint)
RETURNS TABLE (n bigint, kind text, statement text, parameters text[], rows bigint,
	tables regclass[], inserted int, updated int, deleted int)
LANGUAGE sql AS $$
	SELECT l.entry - since, l.kind, l.statement, l.parameters, l.rows, l.tables,
		(l.effects->>'inserted')::int, (l.effects->>'updated')::int, (l.effects->>'deleted')::int
	FROM ttpdb.log l WHERE l.entry > since ORDER BY l.entry
$$;

-- DDL and DML on a ttpdb table.
CREATE TABLE account (id int PRIMARY KEY, owner text NOT NULL, balance numeric NOT NULL) USING ttpdb;
INSERT INTO account VALUES (1, 'alice', 100), (2, 'bob', 50), (3, 'carol', 75);
UPDATE account SET balance = balance - 10 WHERE id = 1;
DELETE FROM account WHERE id = 3;
INSERT INTO account VALUES (2, 'bob', 0) ON CONFLICT (id) DO UPDATE SET balance = account.balance + 1;
MERGE INTO account a USING (VALUES (1, 5), (4, 40)) v(id, amount) ON a.id = v.id
	WHEN MATCHED THEN UPDATE SET balance = a.balance + v.amount
	WHEN NOT MATCHED THEN INSERT VALUES (v.id, 'dave', v.amount);
-- a statement that matches no row is still a statement on the table
UPDATE account SET balance = 0 WHERE id = 99;
SELECT * FROM new_entries(:base);

-- A plain heap table is not logged; reads are not logged.
CREATE TABLE notes (id int, body text);
INSERT INTO notes VALUES (1, 'not logged');
SELECT count(*) FROM account;
SELECT count(*) FROM ttpdb.log WHERE entry > :base AND statement LIKE '%not logged%';

-- Each statement of a multi-statement string is its own entry, with its own text.
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
UPDATE account SET balance = balance + 1 WHERE id = 1 \; UPDATE account SET balance = balance + 2 WHERE id = 2;
SELECT n, kind, statement FROM new_entries(:base);

-- Order: the commit order of transactions, then statement order inside one.
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
BEGIN;
UPDATE account SET balance = balance + 1 WHERE id = 1;
INSERT INTO account VALUES (5, 'erin', 10);
COMMIT;
SELECT l.entry - :base AS n, l.statement_no, l.statement,
	l.xid = lag(l.xid) OVER (ORDER BY l.entry) AS same_transaction
FROM ttpdb.log l WHERE l.entry > :base ORDER BY l.entry;

-- A rolled-back statement leaves no entry; nor does a rolled-back savepoint.
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
BEGIN;
UPDATE account SET balance = -1 WHERE id = 1;
ROLLBACK;
BEGIN;
UPDATE account SET balance = balance + 100 WHERE id = 2;
SAVEPOINT s;
UPDATE account SET balance = -2 WHERE id = 1;
DELETE FROM account WHERE id = 5;
ROLLBACK TO SAVEPOINT s;
UPDATE account SET balance = balance + 100 WHERE id = 4;
COMMIT;
-- a failing statement leaves none either
UPDATE account SET balance = balance / 0 WHERE id = 1;
SELECT n, statement, updated, deleted FROM new_entries(:base);
-- the digest of the committed entries is the savepoint-free one
SELECT count(*) AS problems FROM ttpdb.log_consistency();

-- Prepared statements show their parameters.
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
PREPARE deposit(int, numeric) AS UPDATE account SET balance = balance + $2 WHERE id = $1;
EXECUTE deposit(1, 12.5);
EXECUTE deposit(2, NULL);
DEALLOCATE deposit;
-- parameters computed by functions are values, not the statement
CREATE FUNCTION twelve() RETURNS numeric LANGUAGE sql STABLE AS 'SELECT 12.0';
PREPARE withdraw(int, numeric) AS UPDATE account SET balance = balance - $2 WHERE id = $1;
EXECUTE withdraw(1, twelve());
DEALLOCATE withdraw;
SELECT n, kind, statement, parameters, rows FROM new_entries(:base);

-- COPY FROM keeps what it read: its SHA-256, size and, under the limit, the bytes.
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
COPY account (id, owner, balance) FROM STDIN;
10	frank	1
11	grace	2
\.
SELECT n, kind, statement, rows, inserted FROM new_entries(:base);
SELECT copy_bytes, copy_kept,
	copy_sha256 = sha256(convert_to(E'10\tfrank\t1\n11\tgrace\t2\n\\.\n', 'UTF8')) AS sha256_matches,
	ttpdb.log_copy_content(entry) = convert_to(E'10\tfrank\t1\n11\tgrace\t2\n\\.\n', 'UTF8') AS content_matches
FROM ttpdb.log WHERE entry > :base;
-- past ttpdb.log_copy_limit only the hash and size are kept
SET ttpdb.log_copy_limit = 0;
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
COPY account (id, owner, balance) FROM STDIN (FORMAT csv);
12,heidi,3
\.
RESET ttpdb.log_copy_limit;
SELECT copy_bytes, copy_kept, copy_sha256 IS NOT NULL AS has_sha256,
	ttpdb.log_copy_content(entry) IS NULL AS no_content
FROM ttpdb.log WHERE entry > :base;
-- COPY's own errors are unchanged
COPY account FROM STDIN (FORMAT nonsense);
\.
COPY account (nosuchcolumn) FROM STDIN;
\.
COPY account FROM '/nonexistent/file.csv';
COPY account FROM STDIN WHERE balance > 0;
13	ivan	5
14	judy	-5
\.
SELECT id, owner FROM account WHERE id >= 13 ORDER BY id;
-- and so are COPY's checks: no COPY FROM in a read-only transaction
BEGIN READ ONLY;
COPY account (id, owner, balance) FROM STDIN;
\.
ROLLBACK;
-- COPY into a table with row-level security is refused, as COPY does
CREATE TABLE secret (id int) USING ttpdb;
ALTER TABLE secret ENABLE ROW LEVEL SECURITY;
CREATE ROLE ttpdb_log_user LOGIN;
GRANT USAGE ON SCHEMA ttpdb TO ttpdb_log_user;
GRANT ALL ON secret, account TO ttpdb_log_user;
SET ROLE ttpdb_log_user;
COPY secret FROM STDIN;
\.
COPY secret FROM '/etc/hostname';
RESET ROLE;

-- Nested statements (functions, DO blocks) belong to the statement the user ran.
CREATE FUNCTION pay(who int, amount numeric) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	UPDATE account SET balance = balance - amount WHERE id = who;
	INSERT INTO account VALUES (100 + who, 'payment', amount)
		ON CONFLICT (id) DO UPDATE SET balance = account.balance + amount;
END
$$;
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
SELECT pay(1, 1), pay(2, 2);
DO $$ BEGIN PERFORM pay(1, 3); UPDATE account SET owner = 'Alice' WHERE id = 1; END $$;
SELECT n, kind, statement, rows, inserted, updated FROM new_entries(:base);
SELECT l.entry - :base AS n, jsonb_pretty(l.nested) AS nested
FROM ttpdb.log l WHERE l.entry > :base ORDER BY l.entry;

-- Deferred triggers fire at COMMIT, outside the statements that queued them:
-- what they do is an entry of kind COMMIT, their statements its detail.
CREATE TABLE audit (note text) USING ttpdb;
CREATE FUNCTION audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit VALUES ('account ' || NEW.id || ' changed');
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER audit_change AFTER UPDATE ON account
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_change();
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
BEGIN;
UPDATE account SET balance = balance + 1 WHERE id = 1;
UPDATE account SET balance = balance + 1 WHERE id = 2;
COMMIT;
SELECT n, kind, statement, rows, inserted, updated FROM new_entries(:base);
SELECT nested FROM ttpdb.log WHERE entry = :base + 3;
DROP TRIGGER audit_change ON account;
DROP FUNCTION audit_change();
DROP TABLE audit;
-- TRUNCATE of an empty table is a statement on it too
CREATE TABLE empty_one (id int) USING ttpdb;
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
TRUNCATE empty_one;
SELECT n, kind, statement FROM new_entries(:base);
DROP TABLE empty_one;

-- What a statement needs to run again: timestamps, search_path, the random
-- seed, sequence values, and which volatile functions were not captured.
CREATE TABLE reading (id serial PRIMARY KEY, value float8, at timestamptz) USING ttpdb;
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
INSERT INTO reading (value, at) VALUES (1.5, now());
INSERT INTO reading (value, at) SELECT random(), now() FROM generate_series(1, 3);
INSERT INTO reading (value, at) VALUES (2.5, clock_timestamp());
SELECT l.entry - :base AS n, l.deterministic,
	l.nondeterminism ? 'transaction_timestamp' AS has_xact_ts,
	l.nondeterminism ? 'statement_timestamp' AS has_stmt_ts,
	l.nondeterminism->>'search_path' AS search_path,
	l.nondeterminism ? 'random_seed' AS has_seed,
	l.nondeterminism->'sequences' AS sequences,
	l.nondeterminism->'volatile_functions' AS volatile_functions
FROM ttpdb.log l WHERE l.entry > :base ORDER BY l.entry;
-- the recorded seed reproduces the values random() drew
SELECT setseed((SELECT (nondeterminism->>'random_seed')::float8 FROM ttpdb.log
				WHERE entry = :base + 2));
SELECT array_agg(random()) = (SELECT array_agg(value ORDER BY id) FROM reading WHERE id BETWEEN 2 AND 4)
	AS seed_reproduces FROM generate_series(1, 3);
-- a session that seeds random() itself is left alone (the setseed() above)
SELECT setseed(0.5);
INSERT INTO reading (value) VALUES (random());
SELECT setseed(0.5);
SELECT value = random() AS own_seed_kept FROM reading WHERE id = 6;
SELECT deterministic, nondeterminism ? 'random_seed' AS has_seed,
	nondeterminism->'volatile_functions' AS volatile_functions
FROM ttpdb.log WHERE entry = :base + 4;
-- functions in procedural languages are not seen into
SELECT deterministic, nondeterminism->'volatile_functions' AS volatile_functions
FROM ttpdb.log WHERE statement = 'SELECT pay(1, 1), pay(2, 2)';

-- DDL that touches a ttpdb table is logged; other DDL is not.
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
COMMENT ON TABLE account IS 'customer accounts';
ALTER TABLE account ADD COLUMN note text;
CREATE INDEX account_owner_idx ON account (owner);
ALTER TABLE account ADD CONSTRAINT positive CHECK (balance > -1000);
CREATE FUNCTION account_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER touch BEFORE UPDATE ON account FOR EACH ROW EXECUTE FUNCTION account_touch();
DROP TRIGGER touch ON account;
GRANT SELECT ON account TO PUBLIC;
REVOKE SELECT ON account FROM PUBLIC;
ALTER TABLE account RENAME COLUMN note TO remark;
COMMENT ON TABLE notes IS 'a heap table';
CREATE INDEX notes_idx ON notes (id);
SELECT n, kind, statement, tables FROM new_entries(:base);
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
TRUNCATE reading;
DROP TABLE reading;
SELECT n, kind, statement, deleted FROM new_entries(:base);

-- CAUSED_BY: the entry that created each row version.
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
CREATE TABLE sensor (id int PRIMARY KEY, reading float8) USING ttpdb;
INSERT INTO sensor VALUES (1, 20.0), (2, 21.0);
UPDATE sensor SET reading = 22.0 WHERE id = 2;
INSERT INTO sensor VALUES (3, 23.0);
SELECT id, reading, ttpdb.caused_by(xmin, cmin, xmax) - :base AS caused_by FROM sensor ORDER BY id;
-- the operator: the rows an entry caused
SELECT id FROM sensor WHERE ROW(xmin, cmin, xmax) <~ (:base + 2) ORDER BY id;
SELECT id FROM sensor WHERE ROW(xmin, cmin, xmax) OPERATOR(ttpdb.<~) (:base + 4) ORDER BY id;
-- in a view
CREATE VIEW sensor_provenance AS
	SELECT s.id, s.reading, l.statement AS caused_by
	FROM sensor s JOIN ttpdb.log l ON l.entry = ttpdb.caused_by(s.xmin, s.cmin, s.xmax);
SELECT * FROM sensor_provenance ORDER BY id;
-- every version, kept or present, with the entries that created and ended it
SELECT (version).id, (version).reading, created_entry - :base AS created, ended_entry - :base AS ended
FROM ttpdb.history(NULL::sensor) ORDER BY created_entry, (version).id;
-- as of a past time, the versions then read through the same columns
SELECT max(committed_at) AS after_insert FROM ttpdb.log WHERE entry = :base + 2 \gset
SET ttpdb.as_of = :'after_insert';
SELECT id, reading, ttpdb.caused_by(xmin, cmin, xmax) - :base AS caused_by FROM sensor ORDER BY id;
RESET ttpdb.as_of;
-- or with ttpdb.as_of_versions(), which says where each row came from
SELECT (version).id, (version).reading, created_entry - :base AS created,
	valid_from = (SELECT committed_at FROM ttpdb.log WHERE entry = created_entry) AS stamped
FROM ttpdb.as_of_versions(NULL::sensor, :'after_insert') ORDER BY 1;
SELECT count(*) FROM ttpdb.as_of_versions(NULL::sensor, NULL);
SELECT count(*) FROM ttpdb.as_of_versions(NULL::notes, now());
-- rows the current transaction wrote have no entry yet
BEGIN;
INSERT INTO sensor VALUES (4, 24.0);
SELECT ttpdb.caused_by(xmin, cmin, xmax) FROM sensor WHERE id = 4;
ROLLBACK;
-- DDL then DML in one transaction: each statement its own rows
SELECT coalesce(max(entry), 0) AS base2 FROM ttpdb.log \gset
BEGIN;
CREATE TABLE gauge (id int PRIMARY KEY, v text) USING ttpdb;
INSERT INTO gauge VALUES (1, 'one');
ALTER TABLE gauge ADD COLUMN unit text;
INSERT INTO gauge VALUES (2, 'two', 'kg');
COMMIT;
SELECT id, ttpdb.caused_by(xmin, cmin, xmax) - :base2 AS caused_by FROM gauge ORDER BY id;
-- an UPDATE or DELETE that rolled back overwrote cmin: the answer is then
-- given only when it is certain (a transaction with a single entry)
BEGIN; DELETE FROM gauge WHERE id = 2; ROLLBACK;
BEGIN; UPDATE sensor SET reading = 0 WHERE id = 3; ROLLBACK;
SELECT id, ttpdb.caused_by(xmin, cmin, xmax) - :base2 AS caused_by FROM gauge ORDER BY id;
SELECT id, ttpdb.caused_by(xmin, cmin, xmax) - :base AS caused_by FROM sensor ORDER BY id;
-- ttpdb.history() gives the same answers
SELECT (version).id, created_entry - :base2 AS created FROM ttpdb.history(NULL::gauge) ORDER BY 1;
-- a nested write undone by an exception block is not in the entry
SELECT coalesce(max(entry), 0) AS base2 FROM ttpdb.log \gset
DO $$
BEGIN
	UPDATE gauge SET v = 'uno' WHERE id = 1;
	BEGIN
		INSERT INTO sensor VALUES (9, 99);
		RAISE EXCEPTION 'undo';
	EXCEPTION WHEN raise_exception THEN NULL;
	END;
END
$$;
SELECT tables, effects->>'inserted' AS inserted, effects->>'updated' AS updated, nested
FROM ttpdb.log WHERE entry > :base2;
DROP TABLE gauge;
-- rows of plain tables and bad arguments
SELECT ttpdb.caused_by(xmin, cmin, xmax) FROM notes;
SELECT ttpdb.caused_by(NULL, '0'::cid, NULL);
SELECT ROW(1, 2) <~ 1;
SELECT ROW(xmin, cmin, xmax) <~ NULL FROM sensor LIMIT 1;

-- The three histories.
SELECT count(*) = (SELECT count(*) FROM ttpdb.log) AS system_history_complete FROM ttpdb.system_history;
SELECT name, version - :base AS version, until IS NULL AS current
FROM ttpdb.name_history WHERE entry > :base ORDER BY version;
SELECT version - :base AS version, derived_from - :base AS derived_from
FROM ttpdb.version_history WHERE version > :base ORDER BY version;

-- The log is off only for superusers who say so.
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
SET ttpdb.log = off;
INSERT INTO sensor VALUES (5, 25.0);
RESET ttpdb.log;
SELECT count(*) AS entries_with_log_off FROM ttpdb.log WHERE entry > :base;
SELECT ttpdb.caused_by(xmin, cmin, xmax) FROM sensor WHERE id = 5;

-- Privileges: statement text is visible to the role that ran it and to
-- pg_read_all_stats; nobody but the library writes the log.
\c - ttpdb_log_user
SET search_path = public, ttpdb;
SET ttpdb.log = off;
-- nor by looking like a restore: only a superuser's session is not logged then
SET check_function_bodies = off;
UPDATE account SET balance = balance + 1 WHERE id = 1;
RESET check_function_bodies;
SELECT statement FROM ttpdb.log WHERE entry = (SELECT max(entry) FROM ttpdb.log);
SELECT statement, parameters FROM ttpdb.log WHERE kind = 'COPY' AND entry > :base - 100 ORDER BY entry LIMIT 1;
SELECT count(*) > 0 AS sees_metadata FROM ttpdb.log WHERE role = :'admin';
-- nor what would reveal the values others wrote
SELECT effects ? 'digest' AS digest, nondeterminism ? 'random_seed' AS seed,
	nondeterminism ? 'search_path' AS search_path, copy_sha256 IS NOT NULL AS copy_sha256
FROM ttpdb.log WHERE role = :'admin' AND nondeterminism ? 'random_seed' = false
	AND kind = 'COPY' LIMIT 1;
SELECT count(*) AS seeds_seen FROM ttpdb.log WHERE role = :'admin' AND nondeterminism ? 'random_seed';
SELECT try_copy_content(min(entry)) FROM ttpdb.log WHERE kind = 'COPY' AND role = :'admin';
INSERT INTO ttpdb.log_entries (entry) VALUES (0);
DELETE FROM ttpdb.log_entries;
UPDATE ttpdb.log_entries SET statement = '';
SELECT * FROM ttpdb.log_consistency();
\c - :admin
SET search_path = public, ttpdb;
GRANT pg_read_all_stats TO ttpdb_log_user;
SET ROLE ttpdb_log_user;
SELECT statement FROM ttpdb.log WHERE kind = 'COPY' AND role = :'admin' ORDER BY entry LIMIT 1;
-- but not the data a COPY loaded
SELECT try_copy_content(min(entry)) FROM ttpdb.log WHERE kind = 'COPY' AND role = :'admin';
RESET ROLE;

-- The hash chain: intact, and a tampered entry is found.
SELECT first_broken_entry IS NULL AS intact, problem FROM ttpdb.verify();
SELECT max(entry) - 2 AS victim FROM ttpdb.log \gset
CREATE TEMP TABLE saved AS SELECT * FROM ttpdb.log_entries WHERE entry = :victim;
UPDATE ttpdb.log_entries SET statement = 'UPDATE account SET balance = 1000000' WHERE entry = :victim;
SELECT first_broken_entry = :victim AS found, problem FROM ttpdb.verify();
UPDATE ttpdb.log_entries l SET statement = s.statement FROM saved s WHERE l.entry = s.entry;
-- a forged link is found too: the entry's own, or the next one's
UPDATE ttpdb.log_entries SET chain = sha256('forged') WHERE entry = :victim;
SELECT first_broken_entry = :victim AS found, problem FROM ttpdb.verify();
UPDATE ttpdb.log_entries SET prev_chain = sha256('forged') WHERE entry = :victim + 1;
SELECT first_broken_entry = :victim AS found, problem FROM ttpdb.verify();
UPDATE ttpdb.log_entries l SET chain = s.chain FROM saved s WHERE l.entry = s.entry;
SELECT first_broken_entry = :victim + 1 AS found, problem LIKE 'it does not link to entry %' AS unlinked
FROM ttpdb.verify();
UPDATE ttpdb.log_entries l SET prev_chain = s.chain FROM saved s WHERE l.entry = s.entry + 1;
SELECT first_broken_entry IS NULL AS intact_again FROM ttpdb.verify();
-- a deleted entry is missed
DELETE FROM ttpdb.log_entries WHERE entry = :victim;
SELECT first_broken_entry = :victim + 1 AS found,
	problem LIKE 'entries % to % before it, of committed transactions, are missing' AS missing
FROM ttpdb.verify();
INSERT INTO ttpdb.log_entries SELECT * FROM saved;
SELECT first_broken_entry IS NULL AS intact_again, unverified_links FROM ttpdb.verify();
SELECT count(*) AS problems FROM ttpdb.log_consistency();

-- The links recomputed here with the server's own sha256(), from the framing
-- the reference documents: an entry's content is each column (but its
-- number, commit time and links) as a 4-byte length and its bytes,
-- fixed-width values widened to 8 bytes, NULL as length 0xFFFFFFFF; its link
-- hashes the previous link, its number, its commit time (microseconds since
-- 2000) and that content hash.  Numbers are in the server's byte order, which
-- SQL cannot see: a link must match in one of the two.  Entries with
-- parameters (text[]) or jsonb values are left out: SQL cannot produce
-- jsonb's internal form.
CREATE FUNCTION pg_temp.ne(v bigint, n int, big boolean) RETURNS bytea LANGUAGE sql AS $$
	SELECT string_agg(set_byte('\x00'::bytea, 0, ((v >> (8 * i)) & 255)::int), ''::bytea
		ORDER BY CASE WHEN big THEN -i ELSE i END)
	FROM generate_series(0, n - 1) i
$$;
CREATE FUNCTION pg_temp.f8(v bigint, big boolean) RETURNS bytea LANGUAGE sql AS $$
	SELECT CASE WHEN v IS NULL THEN pg_temp.ne(4294967295, 4, big)
		ELSE pg_temp.ne(8, 4, big) || pg_temp.ne(v, 8, big) END
$$;
CREATE FUNCTION pg_temp.fb(b bytea, big boolean) RETURNS bytea LANGUAGE sql AS $$
	SELECT CASE WHEN b IS NULL THEN pg_temp.ne(4294967295, 4, big)
		ELSE pg_temp.ne(length(b), 4, big) || b END
$$;
CREATE FUNCTION pg_temp.ft(t text, big boolean) RETURNS bytea LANGUAGE sql AS $$
	SELECT pg_temp.fb(convert_to(t, getdatabaseencoding()), big)
$$;
CREATE FUNCTION pg_temp.us(t timestamptz) RETURNS bigint LANGUAGE sql AS $$
	SELECT ((extract(epoch FROM t) - 946684800) * 1000000)::bigint
$$;
-- a one-dimensional oid[] without NULLs as the server keeps it: number of
-- dimensions, no null bitmap, element type, length, lower bound, the oids
CREATE FUNCTION pg_temp.oids(a oid[], big boolean) RETURNS bytea LANGUAGE sql AS $$
	SELECT pg_temp.ne(1, 4, big) || pg_temp.ne(0, 4, big) || pg_temp.ne(26, 4, big) ||
		pg_temp.ne(cardinality(a), 4, big) || pg_temp.ne(1, 4, big) ||
		(SELECT string_agg(pg_temp.ne(o::bigint, 4, big), ''::bytea ORDER BY n)
		 FROM unnest(a) WITH ORDINALITY u(o, n))
$$;
CREATE FUNCTION pg_temp.link(e ttpdb.log_entries, big boolean) RETURNS bytea LANGUAGE sql AS $$
	SELECT sha256(e.prev_chain || pg_temp.ne(e.entry, 8, big) ||
		pg_temp.ne(pg_temp.us(e.committed_at), 8, big) ||
		sha256(pg_temp.f8(e.era, big) || pg_temp.f8(e.xid::text::bigint, big) ||
			pg_temp.f8(e.statement_no, big) || pg_temp.f8(e.role_id::bigint, big) ||
			pg_temp.ft(e.role_name, big) || pg_temp.ft(e.kind, big) || pg_temp.ft(e.statement, big) ||
			pg_temp.fb(NULL, big) || pg_temp.f8(e.rows_affected, big) ||
			pg_temp.fb(pg_temp.oids(e.tables, big), big) || pg_temp.fb(e.table_digests, big) ||
			pg_temp.f8(e.inserted, big) || pg_temp.f8(e.updated, big) || pg_temp.f8(e.deleted, big) ||
			pg_temp.f8(pg_temp.us(e.transaction_ts), big) || pg_temp.f8(pg_temp.us(e.statement_ts), big) ||
			pg_temp.ft(e.search_path, big) || pg_temp.f8(e.deterministic::int, big) ||
			pg_temp.fb(NULL, big) || pg_temp.fb(NULL, big) || pg_temp.f8(e.undoes, big) ||
			pg_temp.f8(e.first_cid, big) || pg_temp.fb(e.copy_sha256, big) ||
			pg_temp.f8(e.copy_bytes, big) || pg_temp.fb(e.copy_data, big)))
$$;
WITH recomputed AS (
	SELECT e.chain, pg_temp.link(e, false) AS little, pg_temp.link(e, true) AS big
	FROM ttpdb.log_entries e
	WHERE e.parameters IS NULL AND e.nondeterminism IS NULL AND e.nested IS NULL
		AND cardinality(e.tables) > 0
)
SELECT count(little) > 10 AS several,
	count(*) FILTER (WHERE little IS DISTINCT FROM chain AND big IS DISTINCT FROM chain) AS mismatched
FROM recomputed;

DROP VIEW sensor_provenance;
DROP TABLE account, notes, sensor, secret;
DROP FUNCTION pay(int, numeric);
DROP FUNCTION account_touch();
DROP FUNCTION new_entries(bigint);
DROP FUNCTION twelve();
DROP FUNCTION try_copy_content(bigint);
REVOKE USAGE ON SCHEMA ttpdb FROM ttpdb_log_user;
DROP ROLE ttpdb_log_user;
