-- UNDO: a forward operation.  ttpdb.undo(entry) appends a new entry that
-- puts back what the entry changed, keeping later changes to other rows;
-- a row a later entry changed again is a conflict, reported row by row.
SET search_path = public, ttpdb;
\set SHOW_CONTEXT never
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
CREATE FUNCTION entry_at(n int) RETURNS bigint LANGUAGE sql AS $$
	SELECT entry FROM ttpdb.log ORDER BY entry DESC OFFSET n LIMIT 1
$$;
-- An undo's error, with entry numbers (which depend on earlier tests) as N.
CREATE FUNCTION undo_error(e bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM ttpdb.undo(e);
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9]+', 'N', 'g');
END
$$;

-- The manifesto's walkthrough (section 7): an INSERT, an UPDATE, and the
-- UPDATE undone.
CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL, price numeric,
	estimate pdist) USING ttpdb;
INSERT INTO item VALUES (1, 'lamp', 20, '{18: 0.5, 22: 0.5}'), (2, 'desk', 150, NULL);
SELECT entry_at(0) AS e_insert \gset
UPDATE item SET price = price * 10;			-- the mistake
SELECT entry_at(0) AS e_update \gset
SELECT max(committed_at) AS t_update FROM ttpdb.log \gset
SELECT * FROM ttpdb.undo(:e_update);
SELECT * FROM item ORDER BY id;
-- the undo is an entry of its own; the past is unchanged
SELECT entry - :base AS n, kind, undoes - :base AS undoes,
	regexp_replace(statement, 'undo\([0-9]+\)', 'undo(N)') AS statement,
	effects->>'updated' AS updated
FROM ttpdb.log WHERE entry > :base ORDER BY entry;
SELECT id, price FROM ttpdb.as_of(NULL::item, :'t_update') ORDER BY id;
SELECT (version).id, (version).price, created_entry - :base AS created, ended_entry - :base AS ended
FROM ttpdb.history(NULL::item) ORDER BY (version).id, valid_from;

-- Undo of an undo brings the change back.
SELECT * FROM ttpdb.undo(entry_at(0));
SELECT * FROM item ORDER BY id;
SELECT * FROM ttpdb.undo(entry_at(0));

-- Undo of a DELETE and of an INSERT.
DELETE FROM item WHERE id = 2;
SELECT * FROM ttpdb.undo(entry_at(0));
INSERT INTO item VALUES (3, 'chair', 40, NULL);
SELECT * FROM ttpdb.undo(entry_at(0));
SELECT * FROM item ORDER BY id;

-- An older entry: later changes to other rows stay.  (The manifesto's
-- "advanced undo", section 11.)
UPDATE item SET name = 'Lamp' WHERE id = 1;
SELECT entry_at(0) AS e_old \gset
UPDATE item SET price = 175 WHERE id = 2;
SELECT * FROM ttpdb.undo(:e_old);
SELECT * FROM item ORDER BY id;

-- A conflict: a later entry changed the same row.
UPDATE item SET price = 21 WHERE id = 1;
SELECT entry_at(0) AS e_conflicted \gset
UPDATE item SET price = 22 WHERE id = 1;
UPDATE item SET price = 160 WHERE id = 2;
SELECT * FROM ttpdb.undo(:e_conflicted);
-- the caller chooses: leave such rows as they are...
UPDATE item SET price = price + 1;
SELECT entry_at(0) AS e_two \gset
UPDATE item SET name = 'Lamp' WHERE id = 1;
SELECT * FROM ttpdb.undo(:e_two, 'skip');
SELECT * FROM item ORDER BY id;
-- ... or put them back as they were before the entry
SELECT * FROM ttpdb.undo(:e_conflicted, 'overwrite');
SELECT * FROM item ORDER BY id;
SELECT * FROM ttpdb.undo(:e_conflicted, 'nonsense');

-- A whole transaction, whose statements changed the same row twice: one
-- statement alone cannot be undone, the transaction can.
BEGIN;
UPDATE item SET price = 1 WHERE id = 1;
UPDATE item SET price = 2 WHERE id = 1;
INSERT INTO item VALUES (4, 'shelf', 60, '{55: 0.2, 60: 0.8}');
COMMIT;
SELECT xid AS x FROM ttpdb.log ORDER BY entry DESC LIMIT 1 \gset
SELECT undo_error(entry_at(1));
-- what the transaction did, as ttpdb.history(NULL::t, transaction) gives it
SELECT (version).id, (version).price, created_entry IS NOT NULL AS by_a_statement,
	valid_to IS NULL AS current
FROM ttpdb.history(NULL::item, :'x') ORDER BY (version).id, valid_from;
SELECT count(*) FROM ttpdb.history(NULL::item, NULL);
SELECT * FROM ttpdb.undo_transaction(:'x');
SELECT * FROM item ORDER BY id;
SELECT kind, undoes = (SELECT min(entry) FROM ttpdb.log WHERE xid = :'x') AS undoes_first
FROM ttpdb.log ORDER BY entry DESC LIMIT 1;

-- Functions and DO blocks are undone by what they changed.
DO $$ BEGIN UPDATE item SET price = price + 1; DELETE FROM item WHERE id = 2; END $$;
SELECT * FROM ttpdb.undo(entry_at(0));
SELECT * FROM item ORDER BY id;

-- What cannot be undone says so.
SELECT undo_error(:base + 1);						-- CREATE TABLE, changed since

-- DDL whose reverse its text tells: undone latest first
CREATE TABLE shape (id int PRIMARY KEY, v int) USING ttpdb;
SELECT entry_at(0) AS e_create \gset
ALTER TABLE shape ADD COLUMN w text;
SELECT entry_at(0) AS e_add \gset
CREATE INDEX shape_v ON shape (v);
SELECT entry_at(0) AS e_index \gset
ALTER TABLE shape RENAME COLUMN w TO note;
SELECT entry_at(0) AS e_rename_column \gset
ALTER TABLE shape RENAME TO form;
SELECT entry_at(0) AS e_rename \gset
SELECT undo_error(:e_create);							-- changed since
SELECT * FROM ttpdb.undo(:e_rename);
SELECT * FROM ttpdb.undo(:e_rename_column);
SELECT * FROM ttpdb.undo(:e_index);
SELECT * FROM ttpdb.undo(:e_add);
SELECT attname FROM pg_attribute WHERE attrelid = 'shape'::regclass AND attnum > 0 AND NOT attisdropped
ORDER BY attnum;
SELECT undo_error(entry_at(0));							-- the undo of DDL ran DDL
SELECT action, outcome FROM ttpdb.undo(:e_create);		-- the changes since were all undone
SELECT to_regclass('shape') AS shape;
-- DDL whose reverse its text does not tell
CREATE TABLE remark (id int PRIMARY KEY) USING ttpdb;
CREATE INDEX ON remark (id);
SELECT undo_error(entry_at(0));							-- an index without a name
COMMENT ON TABLE remark IS 'remarks';
SELECT undo_error(entry_at(0));							-- the comment it replaced is not kept
DROP TABLE remark;
SELECT * FROM ttpdb.undo(-1);
SELECT * FROM ttpdb.undo(NULL);
SELECT * FROM ttpdb.undo_transaction('1');
CREATE TABLE nokey (v int) USING ttpdb;
INSERT INTO nokey VALUES (1);
SELECT * FROM ttpdb.undo(entry_at(0));
ALTER TABLE nokey REPLICA IDENTITY FULL;
INSERT INTO nokey VALUES (2);
SELECT * FROM ttpdb.undo(entry_at(0));
SELECT * FROM nokey;

-- An UPDATE that changed rows' keys; rows whose text form depends on
-- settings; a DO block that also changed a definition; row-level security.
CREATE TABLE rekey (id int PRIMARY KEY, code text UNIQUE, amount float8) USING ttpdb;
INSERT INTO rekey VALUES (1, 'a', 0.1::float8 + 0.2::float8), (2, 'b', 1);
SET extra_float_digits = -3;
UPDATE rekey SET id = id + 10;
SELECT * FROM ttpdb.undo(entry_at(0));
RESET extra_float_digits;
SELECT id, code, amount = 0.1::float8 + 0.2::float8 AS exact FROM rekey ORDER BY id;
-- a whole transaction that changed a key and moved its unique value
BEGIN;
UPDATE rekey SET id = 5 WHERE id = 1;
INSERT INTO rekey VALUES (6, 'f', 6);
COMMIT;
SELECT * FROM ttpdb.undo_transaction((SELECT xid FROM ttpdb.log ORDER BY entry DESC LIMIT 1));
SELECT id, code FROM rekey ORDER BY id;
DO $$ BEGIN UPDATE rekey SET amount = 0; ALTER TABLE rekey ADD COLUMN note text; END $$;
SELECT undo_error(entry_at(0));
ALTER TABLE rekey ENABLE ROW LEVEL SECURITY;
UPDATE rekey SET amount = 5;
SELECT undo_error(entry_at(0));
CREATE TABLE doc (body json, tag text) USING ttpdb;
ALTER TABLE doc REPLICA IDENTITY FULL;
INSERT INTO doc VALUES ('{"a": 1}', 'x');
UPDATE doc SET tag = 'y';
SELECT * FROM ttpdb.undo(entry_at(0));
SELECT * FROM doc;
DROP TABLE rekey, doc;

-- Undoing writes the tables: it needs the privileges to.
CREATE ROLE ttpdb_undo_user;
GRANT USAGE ON SCHEMA ttpdb TO ttpdb_undo_user;
GRANT SELECT ON item TO ttpdb_undo_user;
UPDATE item SET price = 99 WHERE id = 1;
SET ROLE ttpdb_undo_user;
SELECT * FROM ttpdb.undo(entry_at(0));
RESET ROLE;

-- The log and the data agree.
SELECT first_broken_entry IS NULL AS intact FROM ttpdb.verify();
SELECT count(*) AS problems FROM ttpdb.log_consistency();

DROP TABLE item, nokey;
DROP FUNCTION entry_at(int);
DROP FUNCTION undo_error(bigint);
REVOKE USAGE ON SCHEMA ttpdb FROM ttpdb_undo_user;
DROP ROLE ttpdb_undo_user;
