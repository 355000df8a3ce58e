--
-- tam_storage: AS OF answers survive what storage maintenance and schema
-- changes do to a ttpdb table: VACUUM, VACUUM FULL, CLUSTER, FREEZE,
-- index builds, ADD/DROP COLUMN, changing the access method, TOAST,
-- partitions.  Temporary and unlogged tables keep no history.
--
SET search_path = public, ttpdb;

CREATE TABLE reading (id int PRIMARY KEY, sensor text, value float8, note text) USING ttpdb;
INSERT INTO reading SELECT i, 's' || (i % 3), i, NULL FROM generate_series(1, 300) i;
SELECT max(committed_at) AS t1 FROM ttpdb.commit_times \gset
UPDATE reading SET value = value * 10 WHERE id % 2 = 0;
DELETE FROM reading WHERE id % 5 = 0;
SELECT max(committed_at) AS t2 FROM ttpdb.commit_times \gset

CREATE TEMP TABLE answers AS
SELECT 't1' AS at, count(*) AS n, sum(value) AS total FROM ttpdb.as_of(NULL::reading, :'t1')
UNION ALL
SELECT 't2', count(*), sum(value) FROM ttpdb.as_of(NULL::reading, :'t2');
SELECT * FROM answers ORDER BY at;

CREATE TEMP TABLE instants (at text, ts timestamptz);
INSERT INTO instants VALUES ('t1', :'t1'), ('t2', :'t2');
-- (a function, not a view: a view over ttpdb.as_of(NULL::reading, ...)
-- depends on the row type and would block ADD COLUMN)
CREATE FUNCTION answers_unchanged() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RETURN NOT EXISTS (
		SELECT at, n, total FROM answers
		EXCEPT
		SELECT i.at, (SELECT count(*) FROM ttpdb.as_of(NULL::reading, i.ts)),
			(SELECT sum(value) FROM ttpdb.as_of(NULL::reading, i.ts))
		FROM instants i);
END
$$;

VACUUM reading;
SELECT answers_unchanged() AS after_vacuum;
VACUUM FULL reading;
SELECT answers_unchanged() AS after_vacuum_full;
CLUSTER reading USING reading_pkey;
SELECT answers_unchanged() AS after_cluster;
SET vacuum_freeze_min_age = 0;
VACUUM FREEZE reading;
RESET vacuum_freeze_min_age;
SELECT answers_unchanged() AS after_freeze;

-- Parallel scans read the past too: each participant reads part of the
-- heap, one of them the history, all under the leader's snapshot.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET ttpdb.as_of = :'t1';
EXPLAIN (COSTS OFF) SELECT count(*), sum(value) FROM reading;
SELECT count(*), sum(value) FROM reading;
SET ttpdb.as_of = :'t2';
SELECT count(*), sum(value) FROM reading;
RESET ttpdb.as_of;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT answers_unchanged() AS serial_answers_agree;

-- Index builds on a populated table (the heap's build scan insists on the
-- heap routine; ttpdb presents it for the duration).
CREATE INDEX reading_sensor ON reading (sensor);
CREATE INDEX CONCURRENTLY reading_value ON reading (value);
REINDEX TABLE reading;
SELECT count(*) FROM reading WHERE sensor = 's1';
SELECT answers_unchanged() AS after_indexes;

-- Schema changes: old versions read back under the current row type.
ALTER TABLE reading ADD COLUMN unit text DEFAULT 'C';
ALTER TABLE reading DROP COLUMN note;
SELECT answers_unchanged() AS after_add_drop_column;
SELECT * FROM ttpdb.as_of(NULL::reading, :'t1') WHERE id <= 3 ORDER BY id;
UPDATE reading SET unit = 'F' WHERE id = 1;
SELECT (version).id, (version).value, (version).unit FROM ttpdb.history(NULL::reading)
WHERE (version).id = 1 ORDER BY valid_from NULLS LAST;

-- Changing a column's type rewrites the table: its rows are kept, and the
-- kept versions converted (more in tam_alter_type).  A type change that
-- needs no rewrite leaves them as they are.
ALTER TABLE reading ALTER COLUMN value TYPE numeric;
SELECT answers_unchanged() AS after_type_change;
ALTER TABLE reading ALTER COLUMN sensor TYPE varchar;
CREATE TABLE fresh (id int, v int) USING ttpdb;
INSERT INTO fresh VALUES (1, 1);
ALTER TABLE fresh ALTER COLUMN v TYPE bigint;
DROP TABLE fresh;

-- Large values are kept whole (the TOAST chunks of a dead version are
-- vacuumed away).
CREATE TABLE document (id int PRIMARY KEY, body text) USING ttpdb;
INSERT INTO document VALUES (1, repeat('first draft. ', 20000));
UPDATE document SET body = repeat('second draft. ', 20000);
VACUUM document;
SELECT left(body, 12), length(body) FROM ttpdb.history(NULL::document) h, LATERAL (SELECT (h.version).body) b
ORDER BY length(body);
SELECT stored_bytes < raw_bytes AS compressed FROM ttpdb.history_stats WHERE table_name = 'document'::regclass;

-- A rewrite by ALTER TABLE keeps the rows it writes again: reading before
-- it still finds them.
CREATE TABLE stamped (id int PRIMARY KEY, v int) USING ttpdb;
INSERT INTO stamped VALUES (1, 1), (2, 2);
SELECT max(committed_at) AS t_stamped FROM ttpdb.commit_times \gset
ALTER TABLE stamped ADD COLUMN added_at timestamptz DEFAULT clock_timestamp();
SELECT id, v FROM ttpdb.as_of(NULL::stamped, :'t_stamped') ORDER BY id;
-- also in a session whose session_replication_role is replica, which skips
-- ordinary triggers and event triggers but not ttpdb's; and there a dropped
-- table's kept versions go with it too
UPDATE stamped SET v = v + 10;
SELECT max(committed_at) AS t_replica FROM ttpdb.commit_times \gset
SET session_replication_role = replica;
ALTER TABLE stamped ADD COLUMN checked_at timestamptz DEFAULT clock_timestamp();
SELECT id, v FROM ttpdb.as_of(NULL::stamped, :'t_replica') ORDER BY id;
SELECT 'stamped'::regclass::oid AS stamped_oid \gset
DROP TABLE stamped;
RESET session_replication_role;
SELECT count(*) AS versions_left FROM ttpdb.history WHERE relid = :stamped_oid;

-- Changing the access method: rows from before are valid since before
-- tracking began, and the history goes on from the change.
CREATE TABLE legacy (id int, v text) USING heap;
INSERT INTO legacy VALUES (1, 'old');
SELECT max(committed_at) AS t_before_conversion FROM ttpdb.commit_times \gset
ALTER TABLE legacy SET ACCESS METHOD ttpdb;
SELECT max(committed_at) AS t5 FROM ttpdb.commit_times \gset
UPDATE legacy SET v = 'new';
SELECT * FROM ttpdb.as_of(NULL::legacy, :'t_before_conversion');
SELECT * FROM ttpdb.as_of(NULL::legacy, :'t5');
SELECT * FROM legacy;
ALTER TABLE legacy SET ACCESS METHOD heap;
SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = 'legacy'::regclass;

-- Partitions: AS OF on the parent reads each ttpdb partition as of then,
-- including rows that moved between partitions.  Which partitions the
-- parent has is catalog state, read as it is now: after DETACH, the
-- detached partition's past is read through the partition itself.
CREATE TABLE metric (region text, v int) PARTITION BY LIST (region);
CREATE TABLE metric_eu PARTITION OF metric FOR VALUES IN ('eu') USING ttpdb;
CREATE TABLE metric_us PARTITION OF metric FOR VALUES IN ('us') USING ttpdb;
INSERT INTO metric VALUES ('eu', 1), ('us', 2);
SELECT max(committed_at) AS t6 FROM ttpdb.commit_times \gset
UPDATE metric SET region = 'us' WHERE v = 1;
SET ttpdb.as_of = :'t6';
SELECT tableoid::regclass, * FROM metric ORDER BY v;
RESET ttpdb.as_of;
SELECT tableoid::regclass, * FROM metric ORDER BY v;
CREATE TABLE metric_asia (region text, v int) USING ttpdb;
INSERT INTO metric_asia VALUES ('asia', 3);
ALTER TABLE metric ATTACH PARTITION metric_asia FOR VALUES IN ('asia');
ALTER TABLE metric DETACH PARTITION metric_eu;
SET ttpdb.as_of = :'t6';
SELECT tableoid::regclass, * FROM metric ORDER BY v;
SELECT * FROM metric_eu;
RESET ttpdb.as_of;

-- Temporary and unlogged ttpdb tables behave like the heap and keep nothing.
CREATE TEMP TABLE scratch (id int) USING ttpdb;
INSERT INTO scratch VALUES (1);
UPDATE scratch SET id = 2;
CREATE UNLOGGED TABLE cache_t (id int) USING ttpdb;
INSERT INTO cache_t VALUES (1);
DELETE FROM cache_t;
SELECT count(*) FROM ttpdb.history_stats WHERE table_name IN ('scratch'::regclass, 'cache_t'::regclass);
-- so reading their past is refused rather than answered wrongly
SET ttpdb.as_of = :'t1';
SELECT * FROM scratch;
SELECT * FROM cache_t;
RESET ttpdb.as_of;

DROP FUNCTION answers_unchanged();
DROP TABLE reading, document, legacy, metric, metric_eu, scratch, cache_t;
