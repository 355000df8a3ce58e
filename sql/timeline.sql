-- The AprioriDB manifesto's walkthroughs (sections 7 to 11), in ttpdb SQL:
-- undo, branching after undo, a staging branch published to production,
-- the publish undone, and the three histories at each time; advanced undo
-- and amendment.  Entries and versions print relative to the log as this
-- test found it (entry 1 is its first).
SET search_path = public, ttpdb;
\set SHOW_CONTEXT never
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
CREATE TEMP TABLE walk_base AS SELECT :base::bigint AS base;

-- The histories as they stood after an entry.
CREATE FUNCTION walk_system_history(upto bigint) RETURNS TABLE (entry bigint, kind text, statement text)
	LANGUAGE sql AS $$
	SELECT h.entry - (SELECT base FROM walk_base), h.kind,
		   CASE WHEN h.kind = 'UNDO' THEN format('(the UNDO of entry %s)',
												(SELECT l.undoes FROM ttpdb.log l WHERE l.entry = h.entry)
												- (SELECT base FROM walk_base))
				ELSE h.statement END
	FROM ttpdb.system_history h
	WHERE h.entry > (SELECT base FROM walk_base) AND h.entry <= upto + (SELECT base FROM walk_base) ORDER BY h.entry $$;
CREATE FUNCTION walk_name_history(upto bigint)
	RETURNS TABLE (name text, version bigint, entry bigint, how text)
	LANGUAGE sql AS $$
	SELECT n.name, CASE WHEN n.version > (SELECT base FROM walk_base) THEN n.version - (SELECT base FROM walk_base) WHEN n.version IS NOT NULL THEN 0 END, n.entry - (SELECT base FROM walk_base), n.how
	FROM ttpdb.name_history n
	WHERE n.entry > (SELECT base FROM walk_base) AND n.entry <= upto + (SELECT base FROM walk_base) ORDER BY n.entry, n.name $$;
CREATE FUNCTION walk_version_history(upto bigint)
	RETURNS TABLE (version bigint, derived_from bigint, merged_from bigint, branch text, by_entry bigint)
	LANGUAGE sql AS $$
	SELECT v.version - (SELECT base FROM walk_base), CASE WHEN v.derived_from > (SELECT base FROM walk_base) THEN v.derived_from - (SELECT base FROM walk_base) ELSE 0 END,
		   v.merged_from - (SELECT base FROM walk_base), v.branch, v.by_entry - (SELECT base FROM walk_base)
	FROM ttpdb.version_history v
	WHERE v.by_entry > (SELECT base FROM walk_base) AND v.by_entry <= upto + (SELECT base FROM walk_base) ORDER BY v.version $$;
-- Where each name points after an entry.
CREATE FUNCTION walk_names_at(upto bigint) RETURNS TABLE (name text, version bigint)
	LANGUAGE sql AS $$
	SELECT DISTINCT ON (n.name) n.name, CASE WHEN n.version > (SELECT base FROM walk_base) THEN n.version - (SELECT base FROM walk_base) ELSE 0 END
	FROM ttpdb.name_history n
	WHERE n.entry > (SELECT base FROM walk_base) AND n.entry <= upto + (SELECT base FROM walk_base)
	ORDER BY n.name, n.entry DESC $$;
CREATE FUNCTION walk_time(entry bigint) RETURNS timestamptz
	LANGUAGE sql AS $$ SELECT l.committed_at FROM ttpdb.log l WHERE l.entry = $1 + (SELECT base FROM walk_base) $$;

--------------------------------------------------------------------------
-- Section 7: illustrating undo
--------------------------------------------------------------------------

-- Time 1: the initial state (entry 1 makes DB version 1)
CREATE TABLE item (id int PRIMARY KEY, label text NOT NULL) USING ttpdb;
-- Time 2: an INSERT (entry 2, DB version 2)
INSERT INTO item VALUES (1, 'first');
-- Time 3: an UPDATE (entry 3, DB version 3)
UPDATE item SET label = 'changed' WHERE id = 1;
SELECT * FROM walk_system_history(3);
-- querying the present gives DB version 3, the past the earlier ones
SELECT * FROM item;
SELECT * FROM ttpdb.as_of(NULL::item, walk_time(2));
SELECT * FROM ttpdb.as_of(NULL::item, walk_time(1));

-- Time 4: the UPDATE was a mistake.  UNDO appends entry 4 ...
SELECT table_name, row_key, action, outcome FROM ttpdb.undo(3 + :base);
SELECT * FROM walk_system_history(4);
-- ... and points the present back at DB version 2: no new version
SELECT * FROM walk_names_at(4);
SELECT * FROM walk_version_history(4);
SELECT * FROM item;
-- the UPDATE truly existed: as of entry 3 it is still there
SELECT * FROM ttpdb.as_of(NULL::item, walk_time(3));
SELECT * FROM ttpdb.as_of(NULL::item, walk_time(4));

--------------------------------------------------------------------------
-- Section 8: the shape of time (branching after undo)
--------------------------------------------------------------------------

-- Time 5: a DELETE after the UNDO makes DB version 5 ("3a"), derived from
-- DB version 2, beside DB version 3: effective time branched
DELETE FROM item WHERE id = 1;
SELECT * FROM walk_version_history(5);
SELECT * FROM walk_name_history(5);
-- each version's own history is a line: 5 <- 2 <- 1 and 3 <- 2 <- 1
WITH RECURSIVE lineage(start, version, derived_from) AS (
	SELECT v.version, v.version, v.derived_from FROM walk_version_history(5) v
	UNION ALL
	SELECT l.start, v.version, v.derived_from
	FROM lineage l JOIN walk_version_history(5) v ON v.version = l.derived_from)
SELECT start AS version, string_agg(version::text, ' <- ' ORDER BY version DESC) AS lineage
FROM lineage GROUP BY start ORDER BY start;
-- system time moved forward all along; each past state reads as it was
SELECT 1 AS time, count(*) AS rows FROM ttpdb.as_of(NULL::item, walk_time(1))
UNION ALL SELECT 2, count(*) FROM ttpdb.as_of(NULL::item, walk_time(2))
UNION ALL SELECT 3, count(*) FROM ttpdb.as_of(NULL::item, walk_time(3))
UNION ALL SELECT 4, count(*) FROM ttpdb.as_of(NULL::item, walk_time(4))
UNION ALL SELECT 5, count(*) FROM ttpdb.as_of(NULL::item, walk_time(5));
DROP TABLE item;

--------------------------------------------------------------------------
-- Section 9: speculative futures (Production and Staging)
--------------------------------------------------------------------------

SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
UPDATE walk_base SET base = :base;
-- Time 1: Production (ttpdb's "main": the tables themselves) is created
CREATE TABLE account (id int PRIMARY KEY, owner text NOT NULL, balance numeric NOT NULL) USING ttpdb;
-- Time 2: an INSERT into Production
INSERT INTO account VALUES (1, 'ann', 100), (2, 'bob', 50);
-- Time 3: CREATE DATABASE Staging FROM Production: a new name, pointing at
-- Production's version; no new version, no rows copied
SELECT * FROM ttpdb.branch('staging', tables => '{account}');
SELECT name, parent FROM ttpdb.branches WHERE name = 'staging';
SELECT * FROM walk_names_at(3);
SELECT count(*) AS rows_copied FROM ttpdb_branch_staging.account;
-- Time 4: an UPDATE in Staging makes a new version for Staging only
UPDATE staging.account SET balance = balance * 1.1;
SELECT * FROM walk_names_at(4);
SELECT * FROM staging.account ORDER BY id;
-- Production users still see DB version 2
SELECT * FROM account ORDER BY id;
SELECT * FROM ttpdb.compare('main', 'staging');
-- Time 5: PUBLISH Production FROM Staging: Production points at Staging's
-- version, atomically, recorded as one entry
SELECT * FROM ttpdb.publish('staging', 'main');
SELECT * FROM account ORDER BY id;
SELECT * FROM walk_names_at(5);
SELECT * FROM ttpdb.compare('main', 'staging');
SELECT * FROM walk_system_history(5);

--------------------------------------------------------------------------
-- Section 10: history vs provenance, and undoing the publish
--------------------------------------------------------------------------

-- Time 6: the publish was premature.  UNDO of entry 5 points Production
-- back at DB version 2; Staging still points at DB version 4
SELECT table_name, row_key, action, outcome FROM ttpdb.undo(5 + :base);
SELECT * FROM account ORDER BY id;
SELECT * FROM staging.account ORDER BY id;
SELECT * FROM walk_names_at(6);
-- the three histories at each time
-- 1. system history: linear, causal
SELECT * FROM walk_system_history(6);
-- 2. name history (the reflog): Production pointed at 1, 2, 2, 2, 4, 2
SELECT t.time, string_agg(format('%s -> %s', n.name, n.version), ', ' ORDER BY n.name) AS names
FROM generate_series(1, 6) t(time), LATERAL walk_names_at(t.time) n
GROUP BY t.time ORDER BY t.time;
SELECT * FROM walk_name_history(6);
-- 3. version history (provenance): unchanged by the UNDO, which made no
-- version: 1 -> 2 -> 4
SELECT * FROM walk_version_history(4);
SELECT * FROM walk_version_history(6);
-- "What is the history of Production?": its names, or its current
-- version's provenance
WITH RECURSIVE lineage(version, derived_from) AS (
	SELECT v.version, v.derived_from FROM walk_version_history(6) v
	WHERE v.version = (SELECT version FROM walk_names_at(6) WHERE name = 'main')
	UNION ALL
	SELECT v.version, v.derived_from FROM lineage l JOIN walk_version_history(6) v ON v.version = l.derived_from)
SELECT string_agg(version::text, ' <- ' ORDER BY version DESC) AS production_provenance FROM lineage;
-- Staging can be published again: its changes are still its own
SELECT * FROM ttpdb.publish('staging');
SELECT * FROM account ORDER BY id;
SELECT * FROM walk_names_at(7);
SELECT ttpdb.drop_branch('staging');
SELECT * FROM walk_name_history(8) WHERE name = 'staging';
DROP TABLE account;

--------------------------------------------------------------------------
-- Section 11: advanced UNDO, and AMEND
--------------------------------------------------------------------------

SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
UPDATE walk_base SET base = :base;
-- INITIAL, then an INSERT, then an UPDATE of every row
CREATE TABLE stock (sku text PRIMARY KEY, qty int NOT NULL) USING ttpdb;
INSERT INTO stock VALUES ('apple', 10), ('banana', 3);
INSERT INTO stock VALUES ('pear', 5);
UPDATE stock SET qty = qty + 1;
SELECT * FROM stock ORDER BY sku;
-- The INSERT of entry 3 was a mistake; the UPDATE after it is to stay.
-- A row-level UNDO sees that the UPDATE changed the inserted row ...
SELECT * FROM ttpdb.undo(3 + :base);
-- ... AMEND with no statements recomputes the history without the INSERT:
-- INITIAL, apple and banana, UPDATE
SELECT * FROM ttpdb.amend(3 + :base, '{}');
SELECT * FROM stock ORDER BY sku;
SELECT entry - :base AS entry, kind, undoes - :base AS undoes FROM ttpdb.log WHERE entry > :base ORDER BY entry;
-- the amended log: first-order entries only, without the INSERT
SELECT entry - :base AS entry, statement_no, statement, amended
FROM ttpdb.amended_log WHERE entry > :base ORDER BY entry, statement_no;
-- time travel is kept: as of entry 4 the pear is still there
SELECT * FROM ttpdb.as_of(NULL::stock, walk_time(4)) ORDER BY sku;
-- undo the amendment: the INSERT is back in the amended log
SELECT * FROM ttpdb.undo(5 + :base);
SELECT * FROM stock ORDER BY sku;
SELECT entry - :base AS entry, statement_no, statement, amended
FROM ttpdb.amended_log WHERE entry > :base ORDER BY entry, statement_no;
-- AMEND: replace the INSERT of entry 3 with a DELETE followed by a
-- different UPDATE; the UPDATE of entry 4 is recomputed on top of them
SELECT * FROM ttpdb.amend(3 + :base, ARRAY[
	'DELETE FROM stock WHERE sku = ''banana''',
	'UPDATE stock SET qty = 20 WHERE sku = ''apple''']);
SELECT * FROM stock ORDER BY sku;
SELECT entry - :base AS entry, statement_no, statement, amended
FROM ttpdb.amended_log WHERE entry > :base ORDER BY entry, statement_no;
SELECT * FROM walk_version_history(7);
SELECT * FROM walk_name_history(7);
-- every state the system was ever in still reads back
SELECT t.time, coalesce(string_agg(format('%s=%s', s.sku, s.qty), ', ' ORDER BY s.sku)
							FILTER (WHERE s.sku IS NOT NULL), '(empty)') AS stock
FROM generate_series(1, 7) t(time)
LEFT JOIN LATERAL ttpdb.as_of(NULL::stock, walk_time(t.time)) s ON true
GROUP BY t.time ORDER BY t.time;
DROP TABLE stock;

DROP FUNCTION walk_system_history(bigint), walk_name_history(bigint), walk_version_history(bigint),
	walk_names_at(bigint), walk_time(bigint);
