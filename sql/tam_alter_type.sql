--
-- tam_alter_type: ALTER TABLE ... ALTER COLUMN ... TYPE on ttpdb tables.
-- The rows the ALTER rewrites are kept, like any rewrite keeps them, and
-- every kept version (single or packed) is converted with the ALTER's own
-- USING expression or assignment cast, so the past reads back in the new
-- type.
--
SET search_path = public, ttpdb;
SET ttpdb.pack_after = 0;

CREATE TABLE price (id int PRIMARY KEY, amount text, note text) USING ttpdb;
INSERT INTO price VALUES (1, '10', 'a'), (2, '20', 'b'), (3, '30', 'c');
SELECT max(committed_at) AS t1 FROM ttpdb.commit_times \gset
UPDATE price SET amount = '11' WHERE id = 1;
SELECT ttpdb.pack_history('price');		-- one version packed, the next ones single
UPDATE price SET amount = '12' WHERE id = 1;
DELETE FROM price WHERE id = 3;
SELECT max(committed_at) AS t2 FROM ttpdb.commit_times \gset

ALTER TABLE price ALTER COLUMN amount TYPE numeric USING amount::numeric / 10;
SELECT max(committed_at) AS t3 FROM ttpdb.commit_times \gset
SELECT pg_typeof(amount), * FROM price ORDER BY id;

-- The past in the new type: the instants before the change read the
-- converted versions, including the deleted row and the packed one.
SELECT * FROM ttpdb.as_of(NULL::price, :'t1') ORDER BY id;
SELECT * FROM ttpdb.as_of(NULL::price, :'t2') ORDER BY id;
SELECT * FROM ttpdb.as_of(NULL::price, :'t3') ORDER BY id;
SET ttpdb.as_of = :'t1';
SELECT id, amount, amount * 2 AS doubled FROM price ORDER BY id;
RESET ttpdb.as_of;

-- The rows the ALTER rewrote ended with it: each version, with its own
-- validity and the statements that created and ended it.
SELECT valid_from = :'t1' AS from_t1, valid_to = :'t3' AS ended_by_alter, valid_to IS NULL AS present,
	(version).*
FROM ttpdb.history(NULL::price) ORDER BY (version).id, valid_from, valid_to NULLS LAST;
SELECT e.statement
FROM ttpdb.history(NULL::price) h JOIN ttpdb.log e ON e.entry = h.ended_entry
WHERE h.valid_to = :'t3' GROUP BY e.statement;
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'price'::regclass;

-- Several changes in one statement, with columns added and dropped: a
-- column added by the ALTER did not exist in the past, and reads NULL.
ALTER TABLE price ALTER COLUMN amount TYPE text USING amount || ' EUR',
	ALTER COLUMN id TYPE bigint, ADD COLUMN currency text DEFAULT 'EUR', DROP COLUMN note;
SELECT * FROM ttpdb.as_of(NULL::price, :'t1') ORDER BY id;
SELECT * FROM price ORDER BY id;
SELECT pg_typeof((version).id), count(*) FROM ttpdb.history(NULL::price) GROUP BY 1;

-- A value added by ADD COLUMN ... DEFAULT without a rewrite is read by
-- versions older than the column; a type change keeps it in them.
CREATE TABLE gauge (id int PRIMARY KEY, level int) USING ttpdb;
INSERT INTO gauge VALUES (1, 5);
SELECT max(committed_at) AS g1 FROM ttpdb.commit_times \gset
UPDATE gauge SET level = 6;
ALTER TABLE gauge ADD COLUMN unit text DEFAULT 'cm';
SELECT * FROM ttpdb.as_of(NULL::gauge, :'g1');
ALTER TABLE gauge ALTER COLUMN level TYPE numeric(6, 1);
SELECT * FROM ttpdb.as_of(NULL::gauge, :'g1');
SELECT (version).* FROM ttpdb.history(NULL::gauge) ORDER BY valid_from, valid_to NULLS LAST;

-- Every other rewrite forgets such stored defaults too (VACUUM FULL,
-- CLUSTER, an ALTER TABLE that rewrites) after writing them into the present
-- rows: the kept versions, single or packed, get them written in first, and
-- read the same before and after.
CREATE TABLE meter (id int PRIMARY KEY, kwh int) USING ttpdb;
INSERT INTO meter VALUES (1, 10), (2, 20);
SELECT max(committed_at) AS m1 FROM ttpdb.commit_times \gset
UPDATE meter SET kwh = kwh + 1;
SELECT ttpdb.pack_history('meter') AS packed;
UPDATE meter SET kwh = kwh + 1 WHERE id = 1;
ALTER TABLE meter ADD COLUMN site text DEFAULT 'north', ADD COLUMN phase int, ADD COLUMN zone text;
CREATE FUNCTION meter_versions() RETURNS TABLE (id int, kwh int, site text, phase int,
	zone text, valid_from timestamptz, valid_to timestamptz)
LANGUAGE sql AS $$
	SELECT (version).id, (version).kwh, (version).site, (version).phase, (version).zone,
		valid_from, valid_to
	FROM ttpdb.history(NULL::meter)
$$;
CREATE TABLE meter_saved AS SELECT * FROM meter_versions();
-- kept versions saved before a rewrite that are not the same after it
CREATE FUNCTION meter_differences() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM (SELECT * FROM meter_saved WHERE valid_to IS NOT NULL
						  EXCEPT ALL SELECT * FROM meter_versions()) d
$$;
VACUUM FULL meter;
SELECT meter_differences() AS changed_by_vacuum_full;
SELECT * FROM ttpdb.as_of(NULL::meter, :'m1') ORDER BY id;
-- the versions written before get the next column's value too
UPDATE meter SET kwh = kwh + 1 WHERE id = 2;
ALTER TABLE meter DROP COLUMN phase;
ALTER TABLE meter ADD COLUMN phase int DEFAULT 3;
TRUNCATE meter_saved;
INSERT INTO meter_saved SELECT * FROM meter_versions();
CLUSTER meter USING meter_pkey;
SELECT meter_differences() AS changed_by_cluster;
UPDATE meter SET kwh = kwh + 1;
ALTER TABLE meter DROP COLUMN zone;
ALTER TABLE meter ADD COLUMN zone text DEFAULT 'z1';
-- a pack of versions from before the column (which get the value) and after
UPDATE meter SET kwh = kwh + 1;
UPDATE meter SET kwh = kwh + 1;
SELECT ttpdb.pack_history('meter') AS packed;
TRUNCATE meter_saved;
INSERT INTO meter_saved SELECT * FROM meter_versions();
-- in a REPEATABLE READ transaction the rewrite would write versions that
-- committed after its snapshot, which its later reads would see twice
BEGIN ISOLATION LEVEL REPEATABLE READ;
CLUSTER meter;
ROLLBACK;
-- a volatile default rewrites the table: the present rows end and are kept too
ALTER TABLE meter ADD COLUMN read_at timestamptz DEFAULT clock_timestamp();
SELECT meter_differences() AS changed_by_alter,
	(SELECT count(*) FROM meter_versions() WHERE valid_to IS NOT NULL) -
	(SELECT count(*) FROM meter_saved WHERE valid_to IS NOT NULL) AS kept_by_alter;
SELECT id, kwh, site, phase, zone, valid_to IS NULL AS current FROM meter_versions()
ORDER BY id, valid_from, valid_to NULLS LAST;
SELECT id, kwh, site, phase, zone FROM ttpdb.as_of(NULL::meter, :'m1') ORDER BY id;
DROP TABLE meter, meter_saved;
DROP FUNCTION meter_differences();
DROP FUNCTION meter_versions();

-- A change that needs no rewrite (varchar to text) leaves the stored
-- versions as they are, and keeps no row.
CREATE TABLE label (id int PRIMARY KEY, name varchar(10)) USING ttpdb;
INSERT INTO label VALUES (1, 'one');
UPDATE label SET name = 'uno';
ALTER TABLE label ALTER COLUMN name TYPE text;
SELECT count(*) AS versions FROM ttpdb.history(NULL::label) WHERE valid_to IS NOT NULL;
SELECT (version).name, pg_typeof((version).name) FROM ttpdb.history(NULL::label) ORDER BY valid_from;

-- A present value the new type refuses: ALTER TABLE's own error, as on a
-- heap table.  A kept value it refuses: the same error, saying so.  Either
-- way nothing changes.
CREATE TABLE code (id int PRIMARY KEY, c text) USING ttpdb;
INSERT INTO code VALUES (1, 'x1');
ALTER TABLE code ALTER COLUMN c TYPE int USING c::int;
UPDATE code SET c = '42';
ALTER TABLE code ALTER COLUMN c TYPE int USING c::int;
ALTER TABLE code ALTER COLUMN c TYPE int USING CASE WHEN c ~ '^[0-9]+$' THEN c::int END;
SELECT (version).*, valid_to IS NULL AS present FROM ttpdb.history(NULL::code) ORDER BY valid_from, valid_to NULLS LAST;
-- a rolled-back change leaves the history as it was
BEGIN;
ALTER TABLE code ALTER COLUMN c TYPE bigint;
SELECT count(*) FROM ttpdb.history(NULL::code);
ROLLBACK;
SELECT count(*), pg_typeof(min((version).c)) FROM ttpdb.history(NULL::code);

-- Inheritance and partitions: the ALTER converts every table it changes,
-- each child with the USING expression mapped to its own columns.
CREATE TABLE reading (id int, value int) USING ttpdb;
CREATE TABLE reading_extra (extra text) INHERITS (reading) USING ttpdb;
CREATE TABLE reading_late (extra text, value int, id int) USING ttpdb;
ALTER TABLE reading_late INHERIT reading;
INSERT INTO reading VALUES (1, 10);
INSERT INTO reading_extra VALUES (2, 20, 'x');
INSERT INTO reading_late VALUES ('y', 30, 3);
UPDATE reading SET value = value + 1;
ALTER TABLE ONLY reading ALTER COLUMN value TYPE bigint;
ALTER TABLE reading ALTER COLUMN value TYPE bigint USING pg_column_size(reading);
ALTER TABLE reading ALTER COLUMN value TYPE bigint USING value * 100 + id;
SELECT (version).*, valid_to IS NULL AS present FROM ttpdb.history(NULL::reading) ORDER BY valid_from, (version).id;
SELECT (version).*, valid_to IS NULL AS present FROM ttpdb.history(NULL::reading_extra) ORDER BY valid_from, (version).id;
SELECT (version).*, valid_to IS NULL AS present FROM ttpdb.history(NULL::reading_late) ORDER BY valid_from, (version).id;

CREATE TABLE sale (region text, amount int) PARTITION BY LIST (region);
CREATE TABLE sale_north PARTITION OF sale FOR VALUES IN ('north') USING ttpdb;
CREATE TABLE sale_south PARTITION OF sale FOR VALUES IN ('south') USING ttpdb;
INSERT INTO sale VALUES ('north', 1), ('south', 2);
SELECT max(committed_at) AS s1 FROM ttpdb.commit_times \gset
UPDATE sale SET amount = amount * 10;
ALTER TABLE sale ALTER COLUMN amount TYPE numeric USING amount + 0.5;
SELECT * FROM ttpdb.as_of(NULL::sale_north, :'s1');
SELECT * FROM ttpdb.as_of(NULL::sale_south, :'s1');
SET ttpdb.as_of = :'s1';
SELECT * FROM sale ORDER BY region;
RESET ttpdb.as_of;

-- A writer packs at commit (ttpdb.pack_after): also after a type change,
-- whose converted versions are new rows of the history.
SET ttpdb.pack_after = 1;
CREATE TABLE tally (id int PRIMARY KEY, n int) USING ttpdb;
INSERT INTO tally SELECT g, 0 FROM generate_series(1, 5) g;
UPDATE tally SET n = n + 1;
ALTER TABLE tally ALTER COLUMN n TYPE bigint;
SELECT versions, packed_versions FROM ttpdb.history_stats WHERE table_name = 'tally'::regclass;
SELECT sum((version).n), count(*) FROM ttpdb.history(NULL::tally) WHERE valid_to IS NOT NULL;
DROP TABLE tally;
SET ttpdb.pack_after = 0;

-- A conversion that widens the versions writes a pack again as several
-- when it outgrows 1 MB of tuples.
CREATE TABLE memo (id int PRIMARY KEY, body text) USING ttpdb;
INSERT INTO memo VALUES (1, '0');
CREATE PROCEDURE rewrite_memo(n int) LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..n LOOP
		UPDATE memo SET body = i::text;
		COMMIT;
	END LOOP;
END
$$;
CALL rewrite_memo(200);
SELECT ttpdb.pack_history('memo');
SELECT count(*) AS packs FROM ttpdb.history_packs WHERE relid = 'memo'::regclass;
ALTER TABLE memo ALTER COLUMN body TYPE varchar(20000) USING repeat(body, 5000);
SELECT count(*) > 1 AS split, sum(versions) AS versions
FROM ttpdb.history_packs WHERE relid = 'memo'::regclass;
SELECT count(*), sum(length((version).body)), min(left((version).body, 3)), max(left((version).body, 3))
FROM ttpdb.history(NULL::memo);
DROP TABLE memo;
DROP PROCEDURE rewrite_memo(int);

-- An unlogged table keeps no versions, but has those kept while it was
-- logged: a type change converts them too.
CREATE TABLE scratch (id int PRIMARY KEY, v int) USING ttpdb;
INSERT INTO scratch VALUES (1, 1);
UPDATE scratch SET v = 2;
ALTER TABLE scratch SET UNLOGGED;
ALTER TABLE scratch ALTER COLUMN v TYPE text USING 'v' || v;
SELECT (version).v, valid_to IS NULL AS present FROM ttpdb.history(NULL::scratch)
ORDER BY valid_from, valid_to NULLS LAST;

-- Event triggers at the end of the ALTER run before the conversion: they
-- cannot read the kept versions yet.
CREATE FUNCTION peek_history() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM count(*) FROM ttpdb.history(NULL::scratch);
END
$$;
CREATE EVENT TRIGGER peek ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
	EXECUTE FUNCTION peek_history();
ALTER TABLE scratch ALTER COLUMN v TYPE varchar(10);
DROP EVENT TRIGGER peek;
DROP FUNCTION peek_history();
ALTER TABLE scratch ALTER COLUMN v TYPE varchar(10);
SELECT (version).v, pg_typeof((version).v) FROM ttpdb.history(NULL::scratch)
ORDER BY valid_from, valid_to NULLS LAST;
DROP TABLE scratch;

-- A typed table's columns change with its type (ALTER TYPE ... CASCADE):
-- that statement cannot convert kept versions, and is refused while there
-- are any.
CREATE TYPE pair AS (a int, b text);
CREATE TABLE typed OF pair USING ttpdb;
INSERT INTO typed VALUES (1, 'one');
ALTER TYPE pair ALTER ATTRIBUTE a TYPE bigint CASCADE;
UPDATE typed SET b = 'uno';
ALTER TYPE pair ALTER ATTRIBUTE a TYPE numeric CASCADE;
SELECT pg_typeof(a), * FROM typed;

-- Not a rewrite's: the function the event trigger calls.
SELECT ttpdb.keep_rows_before_rewrite('price', 4);

DROP TABLE price, gauge, label, code, reading, reading_extra, reading_late, sale, typed;
DROP TYPE pair;
