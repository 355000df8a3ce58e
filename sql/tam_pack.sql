--
-- tam_pack: kept versions move from single rows of ttpdb.history into packs
-- of ttpdb.history_packs, on request (ttpdb.pack_history) and as writers go
-- (ttpdb.pack_after).  Every read answers the same before and after; only
-- the storage changes.
--
SET search_path = public, ttpdb;
SET ttpdb.pack_after = 0;		-- no automatic packing until the last part

SELECT clock_timestamp() AS t0 \gset
CREATE TABLE account (id int PRIMARY KEY, owner text, balance numeric) USING ttpdb;
INSERT INTO account SELECT i, 'owner ' || i, 100 FROM generate_series(1, 200) i;
SELECT max(committed_at) AS t1 FROM ttpdb.commit_times \gset
UPDATE account SET balance = balance + 10 WHERE id <= 150;
SELECT max(committed_at) AS t2 FROM ttpdb.commit_times \gset
UPDATE account SET balance = balance * 2 WHERE id > 50;
SELECT max(committed_at) AS t3 FROM ttpdb.commit_times \gset
DELETE FROM account WHERE id % 4 = 0;
SELECT max(committed_at) AS t4 FROM ttpdb.commit_times \gset

-- What every read says before packing.
CREATE TEMP TABLE instants (n int, ts timestamptz);
INSERT INTO instants VALUES (0, :'t0'), (1, :'t1'), (2, :'t2'), (3, :'t3'), (4, :'t4');
CREATE TEMP TABLE past AS
SELECT i.n, a.* FROM instants i, LATERAL ttpdb.as_of(NULL::account, i.ts) a;
CREATE TEMP TABLE versions AS
SELECT valid_from, valid_to, created_xid, ended_xid, created_entry, ended_entry, version::text AS version
FROM ttpdb.history(NULL::account);
CREATE FUNCTION reads_unchanged(from_instant int DEFAULT 0) RETURNS boolean LANGUAGE sql AS $$
SELECT NOT EXISTS (
	(SELECT * FROM past WHERE n >= from_instant
	 EXCEPT ALL
	 SELECT i.n, a.* FROM instants i, LATERAL ttpdb.as_of(NULL::account, i.ts) a WHERE i.n >= from_instant)
	UNION ALL
	(SELECT i.n, a.* FROM instants i, LATERAL ttpdb.as_of(NULL::account, i.ts) a WHERE i.n >= from_instant
	 EXCEPT ALL
	 SELECT * FROM past WHERE n >= from_instant))
$$;
CREATE FUNCTION history_unchanged() RETURNS boolean LANGUAGE sql AS $$
SELECT NOT EXISTS (
	(SELECT * FROM versions
	 EXCEPT ALL
	 SELECT valid_from, valid_to, created_xid, ended_xid, created_entry, ended_entry, version::text
	 FROM ttpdb.history(NULL::account))
	UNION ALL
	(SELECT valid_from, valid_to, created_xid, ended_xid, created_entry, ended_entry, version::text
	 FROM ttpdb.history(NULL::account)
	 EXCEPT ALL
	 SELECT * FROM versions))
$$;
SELECT n, count(*), sum(balance) FROM past GROUP BY n ORDER BY n;
-- alone, tuples this small do not compress
SELECT versions, packed_versions, stored_bytes >= raw_bytes AS stored_as_they_are
FROM ttpdb.history_stats WHERE table_name = 'account'::regclass;
SELECT stored_bytes AS single_bytes FROM ttpdb.history_stats
WHERE table_name = 'account'::regclass \gset

-- Pack: 150 + 150 + 50 kept versions, in one pack (at most 1,000 each).
SELECT ttpdb.pack_history('account');
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'account'::regclass;
SELECT count(*) AS single_rows FROM ttpdb.history WHERE relid = 'account'::regclass;
SELECT versions, valid_from_min IS NOT NULL AS starts_known, valid_to_min < valid_to_max AS ends_differ
FROM ttpdb.history_packs WHERE relid = 'account'::regclass;
-- together they do: the pack is several times smaller than the versions
-- were as single rows (and each of those also had a row header and an
-- index entry)
SELECT stored_bytes * 4 < :single_bytes AS much_smaller
FROM ttpdb.history_stats WHERE table_name = 'account'::regclass;
SELECT reads_unchanged() AS as_of_unchanged, history_unchanged() AS history_unchanged;
-- the setting reads packs too, and so do joins at one instant
SET ttpdb.as_of = :'t2';
SELECT count(*), sum(balance) FROM account;
SELECT count(*) FROM account a JOIN account b ON a.id = b.id + 1;
SET ttpdb.as_of = :'t3';
SELECT count(*), sum(balance) FROM account;
RESET ttpdb.as_of;
-- nothing left to pack
SELECT ttpdb.pack_history('account');

-- New versions are single rows until packed; reads combine both.
UPDATE account SET owner = upper(owner) WHERE id = 1;
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'account'::regclass;
SELECT (version).owner, valid_to IS NULL AS current FROM ttpdb.history(NULL::account)
WHERE (version).id = 1 ORDER BY valid_from;

-- A transaction's own versions are not packed: it has no commit stamp yet.
BEGIN;
UPDATE account SET balance = 0 WHERE id = 2;
SELECT ttpdb.pack_history('account');	-- the owner change of id 1 only
SELECT count(*) AS single_rows FROM ttpdb.history WHERE relid = 'account'::regclass;
SELECT count(*) AS versions_of_2 FROM ttpdb.history(NULL::account) WHERE (version).id = 2;
ROLLBACK;
-- a rolled-back pack leaves the versions where they were
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'account'::regclass;
SELECT ttpdb.pack_history('account');
SELECT reads_unchanged() AS as_of_unchanged;

-- Pruning cuts into packs: what ended before t3 goes, the rest is written
-- again, and reads from t3 on are unchanged.
SELECT ttpdb.prune_history('account', :'t3');
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'account'::regclass;
SELECT reads_unchanged(3) AS as_of_t3_t4_unchanged;
SELECT count(*) FROM ttpdb.as_of(NULL::account, :'t1');	-- the ended versions are gone

-- Versions whose start is unknown (rows from before tracking began) pack
-- too; packing every table the caller owns.
CREATE TABLE legacy (id int PRIMARY KEY, v int);
INSERT INTO legacy SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE legacy SET ACCESS METHOD ttpdb;
SELECT max(committed_at) AS t5 FROM ttpdb.commit_times \gset
UPDATE legacy SET v = v + 100;
SELECT ttpdb.pack_history();
SELECT valid_from IS NULL AS start_unknown, valid_to IS NULL AS current, count(*), sum((version).v)
FROM ttpdb.history(NULL::legacy) GROUP BY 1, 2 ORDER BY 1, 2;
SELECT versions, valid_from_min IS NULL AS some_start_unknown
FROM ttpdb.history_packs WHERE relid = 'legacy'::regclass;
SELECT sum(v) FROM ttpdb.as_of(NULL::legacy, :'t5');
SELECT sum(v) FROM ttpdb.as_of(NULL::legacy, :'t0');
-- a column type change converts packed versions too
ALTER TABLE legacy ALTER COLUMN v TYPE bigint;
SELECT sum(v), pg_typeof(sum(v)) FROM ttpdb.as_of(NULL::legacy, :'t5');

-- Automatic packing: a backend that has kept ttpdb.pack_after versions
-- packs the tables its committing transaction wrote.
SET ttpdb.pack_after = 20;
CREATE TABLE counter (id int PRIMARY KEY, hits int) USING ttpdb;
INSERT INTO counter SELECT g, 0 FROM generate_series(1, 10) g;
SELECT format('UPDATE counter SET hits = hits + 1 WHERE id = %s', g % 10 + 1)
FROM generate_series(1, 30) g \gexec
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'counter'::regclass;
SELECT sum(hits) FROM counter;
SELECT count(*), count(valid_to) AS ended FROM ttpdb.history(NULL::counter);
-- the history of one row reads across packs and single rows alike
SELECT (version).hits FROM ttpdb.history(NULL::counter) WHERE (version).id = 2 ORDER BY valid_from;
-- a backlog is worked off over several commits, 4,000 versions at the most
-- a commit, rather than delaying one commit
SET ttpdb.pack_after = 0;
CREATE TABLE backlog (id int PRIMARY KEY, v int) USING ttpdb;
INSERT INTO backlog SELECT g, 0 FROM generate_series(1, 4500) g;
UPDATE backlog SET v = 1;
SET ttpdb.pack_after = 1;
UPDATE backlog SET v = 2 WHERE id = 1;
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'backlog'::regclass;
UPDATE backlog SET v = 3 WHERE id = 1;
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'backlog'::regclass;
SELECT count(*), sum(v) FROM ttpdb.as_of(NULL::backlog, (SELECT max(committed_at) FROM ttpdb.commit_times) - interval '1 microsecond');
DROP TABLE backlog;
RESET ttpdb.pack_after;

-- Errors.
SELECT ttpdb.pack_history(NULL);
CREATE TABLE plain (id int);
SELECT ttpdb.pack_history('plain');
BEGIN READ ONLY;
SELECT ttpdb.pack_history('account');
ROLLBACK;
-- its later reads would see what committed after its snapshot
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ttpdb.pack_history('account');
ROLLBACK;
SET ttpdb.pack_after = -1;
CREATE ROLE pack_stranger;
GRANT USAGE ON SCHEMA ttpdb TO pack_stranger;
GRANT SELECT ON account TO pack_stranger;
SET ROLE pack_stranger;
SELECT ttpdb.pack_history('account');
SELECT ttpdb.pack_history();			-- owns nothing: packs nothing
SELECT count(*) FROM ttpdb.history_packs;
SELECT count(*) FROM ttpdb.as_of(NULL::account, :'t4');	-- readers read packs
RESET ROLE;

-- Dropping a table drops its packs.
SELECT count(DISTINCT relid) FROM ttpdb.history_packs;
DROP TABLE account, legacy, counter, plain;
SELECT count(*) FROM ttpdb.history_packs;
REVOKE USAGE ON SCHEMA ttpdb FROM pack_stranger;
DROP ROLE pack_stranger;
DROP FUNCTION reads_unchanged(int), history_unchanged();
