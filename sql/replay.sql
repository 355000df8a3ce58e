-- REPLAY and AMEND.  ttpdb.replay() rebuilds ttpdb tables in a new schema
-- by running the log again: each entry re-executed where it can be (and
-- checked against its recorded effect digest), applied from the versions
-- it made and ended where it cannot, and the result checked against AS OF.
-- ttpdb.amend() replaces a past entry with other statements, replays the
-- history from there on, and brings the tables to its result as one new
-- entry; ttpdb.amended_log is the log as the amendments and undos have
-- made it.
SET search_path = public, ttpdb;
\set SHOW_CONTEXT never
SELECT current_database() AS regressdb \gset
\set reader ttpdb_replay_reader
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset
CREATE FUNCTION entry_at(n int) RETURNS bigint LANGUAGE sql AS $$
	SELECT entry FROM ttpdb.log ORDER BY entry DESC OFFSET n LIMIT 1
$$;
-- An error, with entry numbers (which depend on earlier tests) as N.
CREATE FUNCTION replay_error(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	message text;
	detail text;
	hint text;
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
		hint = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || regexp_replace(message
		|| coalesce(E'\nDETAIL:  ' || nullif(detail, ''), '')
		|| coalesce(E'\nHINT:  ' || nullif(hint, ''), ''), '[0-9]+', 'N', 'g');
END
$$;

-- A small history.  item has a column dropped before it starts (the
-- replay's copy keeps the column positions, so digests hash alike), a
-- generated column, and a column dropped in the middle of it.
CREATE TABLE item (id int PRIMARY KEY, gone text, name text NOT NULL, price numeric,
	qty int NOT NULL DEFAULT 1, total numeric GENERATED ALWAYS AS (price * qty) STORED,
	code text) USING ttpdb;
ALTER TABLE item DROP COLUMN gone;
CREATE TABLE stock (sku text PRIMARY KEY, n int NOT NULL CHECK (n >= 0), place text UNIQUE) USING ttpdb;
CREATE INDEX stock_n ON stock (n);
-- a ttpdb table that the replays below do not hold, and a plain table
CREATE TABLE rate (k int PRIMARY KEY, f numeric) USING ttpdb;
CREATE TABLE plain (k int PRIMARY KEY, f numeric);
INSERT INTO rate VALUES (1, 2);
INSERT INTO plain VALUES (1, 3);

INSERT INTO item (id, name, price) VALUES (1, 'lamp', 20), (2, 'desk', 150);
UPDATE item SET price = price + 1 WHERE id = 1;
-- prepared statements run again with their logged parameters
PREPARE set_price(int, numeric) AS UPDATE item SET price = $2 WHERE id = $1;
EXECUTE set_price(2, 99);
PREPARE add_item AS INSERT INTO item (id, name, price, qty) VALUES ($1, $2, $3, $4);
EXECUTE add_item(3, 'chair', NULL, 4);
-- a volatile function that is not captured: applied from its effects
UPDATE item SET name = name || '' WHERE clock_timestamp() > '2000-01-01';
-- random() in a session that seeds it itself is not captured either
SELECT setseed(0.5);
UPDATE item SET qty = qty + floor(random() * 3)::int WHERE id = 2;
-- reading a table the replay does not hold, ttpdb or not
UPDATE item SET price = price * (SELECT f FROM rate WHERE k = 1) WHERE id = 1;
UPDATE item SET price = price + (SELECT f FROM plain WHERE k = 1) WHERE id = 2;
SELECT entry_at(0) AS e_mid \gset
-- a transaction of several statements on two tables, changing a row three
-- times
BEGIN;
INSERT INTO stock VALUES ('a', 5, 'shelf 1'), ('b', 7, 'shelf 2');
UPDATE stock SET n = n - 1 WHERE sku = 'a';
UPDATE item SET qty = qty + 1 WHERE id = 1;
UPDATE stock SET n = n - 1 WHERE sku = 'a';
COMMIT;
SELECT entry_at(1) AS e_in_tx \gset
MERGE INTO stock s USING (VALUES ('b', 2), ('c', 3)) v(sku, n) ON s.sku = v.sku
	WHEN MATCHED THEN UPDATE SET n = s.n + v.n
	WHEN NOT MATCHED THEN INSERT VALUES (v.sku, v.n);
INSERT INTO stock VALUES ('c', 1) ON CONFLICT (sku) DO UPDATE SET n = stock.n + excluded.n;
DO $$ BEGIN UPDATE stock SET place = 'shelf 3' WHERE sku = 'c'; END $$;
TRUNCATE stock;
INSERT INTO stock VALUES ('d', 1);
COPY stock (sku, n) FROM stdin;
e	2
f	3
\.
DELETE FROM item WHERE id = 3;
SELECT * FROM ttpdb.undo(entry_at(0));
-- a statement on a column that is gone now cannot run again
UPDATE item SET code = 'L1' WHERE id = 1;
ALTER TABLE item DROP COLUMN code;
ALTER TABLE item ADD COLUMN note text;
UPDATE item SET note = 'checked' WHERE id <= 2;
SELECT entry_at(0) AS e_last \gset
SELECT * FROM item ORDER BY id;
SELECT * FROM stock ORDER BY sku;

-- Replay it all into a new schema.
SELECT entry - :base AS entry, kind, replayed, digest_matches, detail
FROM ttpdb.replay('rp_all', from_entry => :base + 1, tables => '{item,stock}');
SELECT * FROM rp_all.item ORDER BY id;
SELECT * FROM rp_all.stock ORDER BY sku;
-- the same columns at the same positions, the same constraints and indexes,
-- in plain heap tables
SELECT a.attnum, a.attname, a.attisdropped, format_type(a.atttypid, a.atttypmod), a.attnotnull,
	a.attgenerated, r.attname IS NOT DISTINCT FROM a.attname AS same
FROM pg_attribute a
LEFT JOIN pg_attribute r ON r.attrelid = 'rp_all.item'::regclass AND r.attnum = a.attnum
	AND r.attisdropped = a.attisdropped
WHERE a.attrelid = 'item'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT c.relname, am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam
WHERE c.relnamespace = 'rp_all'::regnamespace ORDER BY c.relname;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'rp_all.stock'::regclass ORDER BY conname;
SELECT ttpdb.replay_differences('rp_all.item', 'public.item') AS item_differences,
	ttpdb.replay_differences('rp_all.stock', 'public.stock') AS stock_differences;
-- a replay writes nothing to the log
SELECT entry_at(0) = :e_last AS log_unchanged;

-- Up to an entry in the middle: the tables as of then.
SELECT entry - :base AS entry, kind, replayed, digest_matches
FROM ttpdb.replay('rp_mid', upto_entry => :e_mid, from_entry => :base + 1, tables => '{item}');
SELECT * FROM rp_mid.item ORDER BY id;
-- up to an entry that does not end its transaction: nobody saw the tables
-- as they were after it, there is nothing to check against
SELECT entry - :base AS entry, kind, replayed, digest_matches, detail
FROM ttpdb.replay('rp_in_tx', upto_entry => :e_in_tx, from_entry => :e_mid + 1, tables => '{item,stock}');
SELECT * FROM rp_in_tx.stock ORDER BY sku;

-- From an entry in the middle: the tables before it are read AS OF just
-- before its transaction; checked against AS OF after each transaction.
SELECT entry - :base AS entry, kind, replayed, digest_matches, detail
FROM ttpdb.replay('rp_from', from_entry => :e_mid + 1, tables => '{stock,item}',
	check_each_transaction => true);
SELECT ttpdb.replay_differences('rp_from.item', 'public.item') AS item_differences,
	ttpdb.replay_differences('rp_from.stock', 'public.stock') AS stock_differences;
-- the tables argument: only those tables, their entries only
SELECT entry - :base AS entry, kind, replayed, digest_matches
FROM ttpdb.replay('rp_stock', from_entry => :e_mid + 1, tables => ARRAY['stock'::regclass]);
SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'rp_stock'::regnamespace AND c.relkind = 'r';
-- with rate in the replay, the statement that read it runs again too
SELECT entry - :base AS entry, kind, replayed, digest_matches, detail
FROM ttpdb.replay('rp_rate', upto_entry => :e_mid, from_entry => :base + 1, tables => '{item,rate}')
WHERE kind <> 'CREATE TABLE' AND kind <> 'ALTER TABLE';

-- A table without a key: the rows an entry ended are found by their
-- whole value, one row for each.
CREATE TABLE tally (v int, note text) USING ttpdb;
SELECT entry_at(0) AS e_tally \gset
INSERT INTO tally VALUES (1, 'a'), (1, 'a'), (2, NULL);
DELETE FROM tally WHERE ctid = (SELECT min(ctid) FROM tally WHERE v = 1)
	AND clock_timestamp() > '2000-01-01';
UPDATE tally SET note = 'b' WHERE v = 2 AND clock_timestamp() > '2000-01-01';
SELECT entry - :e_tally AS entry, kind, replayed, digest_matches, detail
FROM ttpdb.replay('rp_tally', from_entry => :e_tally, tables => '{tally}');
SELECT * FROM rp_tally.tally ORDER BY v;
DROP SCHEMA rp_tally CASCADE;

-- A schema whose name needs quoting.
SELECT replayed, count(*)
FROM ttpdb.replay('Replay Here', from_entry => :e_mid + 1, tables => '{stock}') GROUP BY 1 ORDER BY 1;
SELECT * FROM "Replay Here".stock ORDER BY sku;
DROP SCHEMA "Replay Here" CASCADE;

-- What cannot be replayed says so.
SELECT * FROM ttpdb.replay(NULL);
SELECT * FROM ttpdb.replay('rp_all', tables => '{item}');	-- the schema exists
SELECT * FROM ttpdb.replay('rp_x', upto_entry => -1);
SELECT * FROM ttpdb.replay('rp_x', from_entry => -1);
SELECT replay_error(format('SELECT * FROM ttpdb.replay(%L, upto_entry => %s, from_entry => %s)',
	'rp_x', :e_mid, :e_last));
SELECT replay_error(format('SELECT * FROM ttpdb.replay(%L, from_entry => %s, tables => %L)',
	'rp_x', :e_in_tx, '{stock}'));
SELECT * FROM ttpdb.replay('rp_x', from_entry => :base + 1, tables => '{item,plain}');
SELECT * FROM ttpdb.replay('rp_x', from_entry => :base + 1, tables => '{}');
CREATE SCHEMA elsewhere;
CREATE TABLE elsewhere.item (id int PRIMARY KEY) USING ttpdb;
SELECT * FROM ttpdb.replay('rp_x', from_entry => :base + 1, tables => '{item,elsewhere.item}');
DROP TABLE elsewhere.item;
DROP SCHEMA elsewhere;
-- the replay reads the tables' history: it needs SELECT on them
CREATE ROLE :reader;
GRANT USAGE ON SCHEMA ttpdb TO :reader;
GRANT CREATE ON DATABASE :"regressdb" TO :reader;
SET ROLE :reader;
SELECT * FROM ttpdb.replay('rp_x', from_entry => :base + 1, tables => '{item}');
RESET ROLE;
-- given SELECT, it replays, though from the effects only: the statements
-- of other roles are not shown to it
GRANT SELECT ON item TO :reader;
SET ROLE :reader;
SELECT entry - :base AS entry, kind, replayed, digest_matches
FROM ttpdb.replay('rp_reader', upto_entry => :e_mid, from_entry => :base + 1, tables => '{item}');
SELECT count(*) FROM rp_reader.item;
DROP SCHEMA rp_reader CASCADE;
RESET ROLE;
-- nothing was left behind by the failed replays
SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rp\_x%';
SET client_min_messages = warning;
DROP SCHEMA rp_all, rp_mid, rp_in_tx, rp_from, rp_stock, rp_rate CASCADE;
RESET client_min_messages;

-- AMEND: the manifesto's section 11.  An INSERT, then an UPDATE; the
-- INSERT was a mistake, which should have been a DELETE and a different
-- UPDATE.  The amendment replays the history with the INSERT replaced,
-- runs the later UPDATE again on the amended history, and changes the
-- tables to the result, as one new entry.
SELECT entry_at(0) AS amend_base \gset
CREATE TABLE production (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL) USING ttpdb;
INSERT INTO production VALUES (1, 'bolt', 10), (2, 'nut', 20);
INSERT INTO production VALUES (3, 'screw', 30);
SELECT entry_at(0) AS e_insert \gset
SELECT max(committed_at) AS t_before_amend FROM ttpdb.log \gset
UPDATE production SET qty = qty + 1 WHERE qty >= 15;
SELECT * FROM production ORDER BY id;
SELECT entry - :amend_base AS entry, statement_no, statement, amended
FROM ttpdb.amended_log WHERE entry > :amend_base ORDER BY entry, statement_no;
SELECT * FROM ttpdb.amend(:e_insert, ARRAY[
	'DELETE FROM production WHERE id = 2',
	'UPDATE production SET qty = 15 WHERE id = 1']);
-- row 1 now meets the later UPDATE's condition: it ran again on it
SELECT * FROM production ORDER BY id;
SELECT entry_at(0) AS e_amend \gset
-- the AMEND is an entry of its own, a second-order one: it names the
-- entry it amended; the amendment's statements are kept
SELECT entry - :amend_base AS entry, kind, undoes - :amend_base AS undoes, rows,
	effects->>'inserted' AS inserted, effects->>'updated' AS updated, effects->>'deleted' AS deleted
FROM ttpdb.log WHERE entry > :amend_base ORDER BY entry;
SELECT amended_entry - :amend_base AS amended_entry, statements
FROM ttpdb.amendments WHERE amended_entry > :amend_base;
-- the amended log: the INSERT replaced by the amendment's statements; the
-- AMEND itself is not in it
SELECT entry - :amend_base AS entry, statement_no, statement, amended
FROM ttpdb.amended_log WHERE entry > :amend_base ORDER BY entry, statement_no;
-- the past is unchanged
SELECT * FROM ttpdb.as_of(NULL::production, :'t_before_amend') ORDER BY id;
SELECT (version).id, (version).qty, created_entry - :amend_base AS created,
	ended_entry - :amend_base AS ended
FROM ttpdb.history(NULL::production) ORDER BY (version).id, valid_from;

-- An AMEND is undone as any entry is; the amended log is then the log.
SELECT * FROM ttpdb.undo(:e_amend);
SELECT * FROM production ORDER BY id;
SELECT entry - :amend_base AS entry, statement_no, statement, amended
FROM ttpdb.amended_log WHERE entry > :amend_base ORDER BY entry, statement_no;
-- a replay of this history: the AMEND and the UNDO are applied from their
-- effects; checked against AS OF after each transaction
SELECT entry - :amend_base AS entry, kind, replayed, digest_matches
FROM ttpdb.replay('rp_amended', from_entry => :amend_base + 1, tables => '{production}',
	check_each_transaction => true);
SELECT * FROM rp_amended.production ORDER BY id;
DROP SCHEMA rp_amended CASCADE;

-- An entry in a transaction: the statements before it in the transaction
-- run again, the amendment replaces it only.
BEGIN;
UPDATE production SET qty = qty * 2 WHERE id = 1;
UPDATE production SET name = 'BOLT' WHERE id = 1;
UPDATE production SET qty = qty + 100 WHERE id = 2;
COMMIT;
SELECT * FROM ttpdb.amend(entry_at(1), ARRAY['UPDATE production SET name = ''Bolt'' WHERE qty = 20']);
SELECT * FROM production ORDER BY id;

-- Amended with nothing: a retroactive undo, by recomputation.  The later
-- UPDATE runs again without the mistaken INSERT, and changes the row it
-- would have changed.
SELECT entry_at(0) AS shipment_base \gset
CREATE TABLE shipment (id int PRIMARY KEY, what text NOT NULL, qty int NOT NULL) USING ttpdb;
INSERT INTO shipment VALUES (1, 'bolt', 10);
INSERT INTO shipment VALUES (2, 'nut', 20);
SELECT entry_at(0) AS e_mistake \gset
UPDATE shipment SET qty = qty + 1 WHERE id = (SELECT max(id) FROM shipment);
SELECT * FROM shipment ORDER BY id;
SELECT * FROM ttpdb.amend(:e_mistake, '{}');
SELECT * FROM shipment ORDER BY id;
SELECT entry - :shipment_base AS entry, statement_no, statement, amended
FROM ttpdb.amended_log WHERE entry > :shipment_base ORDER BY entry, statement_no;
SELECT entry - :shipment_base AS entry, kind, undoes - :shipment_base AS undoes
FROM ttpdb.log WHERE entry > :shipment_base ORDER BY entry;

-- What cannot be amended says so.
SELECT * FROM ttpdb.amend(NULL, '{}');
SELECT * FROM ttpdb.amend(-1, '{}');
SELECT replay_error(format('SELECT * FROM ttpdb.amend(%s, %L)', :amend_base + 1, '{}'));	-- CREATE TABLE
-- an amendment keeps to the tables of the amended history, named as
-- they are there, one INSERT, UPDATE, DELETE or MERGE at a time
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['DELETE FROM public.shipment WHERE id = 1']);
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['INSERT INTO plain VALUES (2, 2)']);
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['UPDATE production SET qty = 0']);
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['TRUNCATE shipment']);
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['SELECT 1']);
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['DELETE FROM shipment; DELETE FROM shipment']);
-- a statement that fails fails the amendment
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['INSERT INTO shipment VALUES (2, NULL, 20)']);
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['INSERT INTO shipment VALUES (1, ''again'', 1)']);
SELECT * FROM ttpdb.amend(:e_mistake, ARRAY['UPDATE nowhere SET x = 1']);
-- every table the history changed from the entry on needs a key
CREATE TABLE nokey (v int) USING ttpdb;
INSERT INTO nokey VALUES (1);
SELECT * FROM ttpdb.amend(:e_mistake, '{}');
DROP TABLE nokey;
-- and the tables need names of their own
CREATE SCHEMA elsewhere;
CREATE TABLE elsewhere.shipment (id int PRIMARY KEY) USING ttpdb;
INSERT INTO elsewhere.shipment VALUES (1);
SELECT replay_error(format('SELECT * FROM ttpdb.amend(%s, %L)', :e_mistake, '{}'));
DROP TABLE elsewhere.shipment;
DROP SCHEMA elsewhere;
-- an entry whose tables are gone
CREATE TABLE dropped (id int PRIMARY KEY) USING ttpdb;
INSERT INTO dropped VALUES (1);
SELECT entry_at(0) AS e_dropped \gset
DROP TABLE dropped;
SELECT replay_error(format('SELECT * FROM ttpdb.amend(%s, %L)', :e_dropped, '{}'));
-- the amendment writes the tables: it needs the privileges to
GRANT SELECT ON shipment TO :reader;
SET ROLE :reader;
SELECT * FROM ttpdb.amend(:e_mistake, '{}');
RESET ROLE;
-- none of these left an amendment (there are the three above), a scratch
-- schema, or a change
SELECT count(*) AS amendments FROM ttpdb.amendments WHERE amended_entry > :amend_base;
SELECT count(*) AS scratch_schemas FROM pg_namespace WHERE nspname LIKE 'ttpdb\_amend\_%';
SELECT * FROM shipment ORDER BY id;

-- A statement calling a volatile function is not run again: its writes
-- elsewhere would happen twice.
CREATE TABLE side (n int);
CREATE TABLE bumped (id int PRIMARY KEY, v int) USING ttpdb;
CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS 'INSERT INTO public.side VALUES (1) RETURNING 7';
INSERT INTO bumped VALUES (1, 1);
SELECT entry_at(0) AS e_bumped \gset
UPDATE bumped SET v = bump() WHERE id = 1;
SELECT entry - :e_bumped + 1 AS entry, kind, replayed, digest_matches
FROM ttpdb.replay('rp_bump', from_entry => :e_bumped, tables => '{bumped}');
SELECT count(*) AS side_rows FROM side;
SELECT * FROM ttpdb.amend(:e_bumped, ARRAY['INSERT INTO bumped VALUES (1, bump())']);
SELECT count(*) AS side_rows FROM side;
SELECT * FROM rp_bump.bumped;
-- neither is one that reads the transaction's time
UPDATE bumped SET v = extract(year FROM now())::int - extract(year FROM now())::int WHERE id = 1;
SELECT entry - :e_bumped + 1 AS entry, kind, replayed, digest_matches
FROM ttpdb.replay('rp_bump2', from_entry => :e_bumped, tables => '{bumped}') WHERE kind <> 'AS OF check';

-- Amending keeps the values later entries drew (random(), now()), and
-- applies their recorded effects only to the rows they found.
CREATE TABLE drawn (id int PRIMARY KEY, v int, at timestamptz) USING ttpdb;
INSERT INTO drawn VALUES (1, 10, NULL), (2, 20, NULL), (3, 30, NULL);
SELECT entry_at(0) AS e_drawn \gset
UPDATE drawn SET v = v + floor(random() * 1000) WHERE id >= 2;
UPDATE drawn SET at = now() WHERE id >= 2;
CREATE TEMP TABLE drawn_before AS SELECT * FROM drawn;
SELECT * FROM ttpdb.amend(:e_drawn, ARRAY['INSERT INTO drawn VALUES (1, 11, NULL), (2, 20, NULL)']);
SELECT d.id, d.v = b.v AS same_v, d.at = b.at AS same_at
FROM drawn d LEFT JOIN drawn_before b USING (id) ORDER BY d.id;
-- amended again after undoing that: the UNDO and the first AMEND are not
-- part of the amended history
SELECT count(*) FROM ttpdb.undo(entry_at(0));
SELECT * FROM ttpdb.amend(:e_drawn, ARRAY['INSERT INTO drawn VALUES (1, 12, NULL)']);
SELECT id, v FROM drawn ORDER BY id;
SELECT entry - :e_drawn + 1 AS entry, statement_no, statement, amended
FROM ttpdb.amended_log WHERE entry >= :e_drawn ORDER BY entry, statement_no;

-- A replay up to an entry inside a transaction is not checked, even with
-- check_each_transaction.
CREATE TABLE mt (id int PRIMARY KEY, v int) USING ttpdb;
BEGIN;
INSERT INTO mt VALUES (1, 1);
UPDATE mt SET v = 2;
COMMIT;
SELECT entry_at(1) AS e_mt \gset
SELECT entry - :e_mt + 1 AS entry, kind, replayed
FROM ttpdb.replay('rp_mt', upto_entry => :e_mt, from_entry => :e_mt, tables => '{mt}',
				  check_each_transaction => true);
-- a table named twice is replayed once
SELECT count(*) FROM ttpdb.replay('rp_mt2', from_entry => :e_mt, tables => '{mt,mt}');
-- a CHECK constraint added since does not stop the past from replaying
INSERT INTO mt VALUES (2, -5);
ALTER TABLE mt ADD CHECK (v > 0) NOT VALID;
SELECT replayed, count(*) FROM ttpdb.replay('rp_mt3', from_entry => :e_mt, tables => '{mt}')
GROUP BY 1 ORDER BY 1;
-- row-level security: the history is not filtered by the policies
ALTER TABLE mt ENABLE ROW LEVEL SECURITY;
SELECT * FROM ttpdb.replay('rp_mt4', tables => '{mt}');
SELECT * FROM ttpdb.amend(:e_mt, '{}');
DROP TABLE side, bumped, drawn, mt;
DROP FUNCTION bump();
DROP SCHEMA rp_bump, rp_bump2, rp_mt, rp_mt2, rp_mt3 CASCADE;

-- An index name is copied as a name, never as SQL.
CREATE TABLE oddly (id int PRIMARY KEY, v int) USING ttpdb;
CREATE INDEX "x ON oddly (id); DROP TABLE oddly; --" ON oddly (v);
INSERT INTO oddly VALUES (1, 1);
SELECT entry_at(0) AS e_oddly \gset
SELECT replayed FROM ttpdb.replay('rp_oddly', from_entry => :e_oddly, tables => '{oddly}');
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'rp_oddly.oddly'::regclass ORDER BY 1;
SELECT count(*) AS still_there FROM oddly;

-- Code a role other than a superuser wrote is not run by a replay: not
-- in a statement (even IMMUTABLE), not in a copied default or index.
CREATE SCHEMA reader_code AUTHORIZATION :reader;
SET ROLE :reader;
CREATE FUNCTION reader_code.double(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
RESET ROLE;
CREATE TABLE guarded (id int PRIMARY KEY, v int DEFAULT reader_code.double(21)) USING ttpdb;
CREATE INDEX guarded_v ON guarded (reader_code.double(v));
INSERT INTO guarded VALUES (1, reader_code.double(5));
SELECT entry_at(0) AS e_guarded \gset
SELECT entry - :e_guarded + 1 AS entry, replayed, detail
FROM ttpdb.replay('rp_guarded', from_entry => :e_guarded, tables => '{guarded}') WHERE kind <> 'AS OF check';
SELECT pg_get_expr(adbin, adrelid) AS copied_default FROM pg_attrdef WHERE adrelid = 'rp_guarded.guarded'::regclass;
SELECT count(*) AS copied_indexes FROM pg_index WHERE indrelid = 'rp_guarded.guarded'::regclass;

-- nor in a domain's checks: a column of such a domain refuses the table,
-- a cast to it in a statement is not run again
SET ROLE :reader;
CREATE FUNCTION reader_code.positive(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
CREATE DOMAIN reader_code.pos AS int CHECK (reader_code.positive(VALUE));
CREATE DOMAIN reader_code.pos2 AS reader_code.pos;
RESET ROLE;
CREATE TABLE dommed (id int PRIMARY KEY, v reader_code.pos2[]) USING ttpdb;
INSERT INTO dommed VALUES (1, '{1}');
SELECT * FROM ttpdb.replay('rp_dommed', tables => '{dommed}');
UPDATE guarded SET v = cardinality('{5}'::reader_code.pos[]);
SELECT entry - :e_guarded + 1 AS entry, replayed
FROM ttpdb.replay('rp_guarded2', from_entry => :e_guarded, tables => '{guarded}') WHERE kind <> 'AS OF check';
DROP TABLE dommed;
-- nor a literal the parser reads as the time, wherever it says so
CREATE TABLE dated (id int PRIMARY KEY, at timestamptz[], d timestamp) USING ttpdb;
INSERT INTO dated VALUES (1, NULL, NULL);
SELECT entry_at(0) AS e_dated \gset
INSERT INTO dated VALUES (2, '{now}', '10:00 tomorrow');
PREPARE dated_at(int, timestamptz) AS INSERT INTO dated VALUES ($1, NULL, $2);
EXECUTE dated_at(3, 'today');
DEALLOCATE dated_at;
SELECT entry - :e_dated + 1 AS entry, replayed
FROM ttpdb.replay('rp_dated', from_entry => :e_dated, tables => '{dated}') WHERE kind <> 'AS OF check';
DROP TABLE dated;
SET client_min_messages = warning;
DROP SCHEMA rp_guarded2, rp_dated CASCADE;
RESET client_min_messages;

-- UNDO and AMEND marks need the right to write what the entry changed,
-- and an amendment row needs its mark
SET ROLE :reader;
SELECT ttpdb.log_mark_undo(:e_guarded);
SELECT ttpdb.log_mark_amend(:e_guarded);
INSERT INTO ttpdb.amendments VALUES (:e_guarded, '{}', current_user::regrole::oid);
RESET ROLE;
-- one statement marks one entry
SELECT ttpdb.log_mark_undo(:e_guarded), ttpdb.log_mark_undo(:e_oddly);
-- an UNDO changes only tables the undone entry's transaction changed
DO $$
BEGIN
	PERFORM ttpdb.log_mark_undo((SELECT max(entry) FROM ttpdb.log
								 WHERE 'guarded'::regclass = ANY (tables)));
	INSERT INTO oddly VALUES (2, 2);
END
$$;
-- a mark made in a subtransaction that rolls back is gone with it
DO $$
BEGIN
	BEGIN
		PERFORM ttpdb.log_mark_undo((SELECT max(entry) FROM ttpdb.log));
		RAISE EXCEPTION 'roll back';
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END;
	UPDATE guarded SET v = 3;
END
$$;
SELECT kind, undoes FROM ttpdb.log ORDER BY entry DESC LIMIT 1;

-- Entries applied from their effects leave rows an amendment changed
-- alone; an AMEND of the last entry is an amendment in the name history.
CREATE TABLE stamp (id int PRIMARY KEY, what text, at timestamptz) USING ttpdb;
INSERT INTO stamp VALUES (1, 'wrong', NULL);
SELECT entry_at(0) AS e_stamp \gset
UPDATE stamp SET at = clock_timestamp() WHERE id = 1;
SELECT * FROM ttpdb.amend(:e_stamp, ARRAY['INSERT INTO stamp VALUES (1, ''right'', NULL)']);
SELECT id, what, at IS NULL AS at_is_null FROM stamp;
UPDATE stamp SET what = 'typo';
SELECT entry_at(0) AS e_typo \gset
SELECT * FROM ttpdb.amend(:e_typo, ARRAY['UPDATE stamp SET what = ''fixed''']);
SELECT how FROM ttpdb.name_history ORDER BY entry DESC LIMIT 1;
-- an UNDO of DDL sees the amendments after it
ALTER TABLE stamp ADD COLUMN note text;
SELECT entry_at(0) AS e_note \gset
UPDATE stamp SET note = 'important';
SELECT * FROM ttpdb.amend(entry_at(0), ARRAY['UPDATE stamp SET note = ''very important''']);
SELECT replay_error(format('SELECT * FROM ttpdb.undo(%s)', :e_note));

DROP TABLE oddly, guarded, stamp;
DROP SCHEMA reader_code CASCADE;
DROP SCHEMA rp_oddly, rp_guarded CASCADE;

-- The log is intact.
SELECT first_broken_entry IS NULL AS intact FROM ttpdb.verify();

-- An empty log, in a database of its own.
SELECT current_database() || '_empty' AS emptydb \gset
CREATE DATABASE :"emptydb" TEMPLATE template0;
\c :"emptydb"
SET search_path = public, ttpdb;
\set SHOW_CONTEXT never
CREATE EXTENSION ttpdb;
SELECT * FROM ttpdb.replay('rp_x');
-- entries, but no ttpdb table any more
CREATE TABLE t (id int PRIMARY KEY, v int) USING ttpdb;
DROP TABLE t;
SELECT * FROM ttpdb.replay('rp_x');
-- the defaults: the whole log, every ttpdb table
CREATE TABLE t (id int PRIMARY KEY, v int) USING ttpdb;
INSERT INTO t VALUES (1, 1), (2, 2);
UPDATE t SET v = v * 10;
SELECT min(entry) - 1 AS base FROM ttpdb.log \gset
SELECT entry - :base AS entry, kind, replayed, digest_matches, detail FROM ttpdb.replay('rp_t');
SELECT * FROM rp_t.t ORDER BY id;
\c :"regressdb"
DROP DATABASE :"emptydb";

DROP TABLE item, stock, rate, plain, tally, production, shipment;
DROP FUNCTION entry_at(int);
DROP FUNCTION replay_error(text);
REVOKE CREATE ON DATABASE :"regressdb" FROM :reader;
REVOKE USAGE ON SCHEMA ttpdb FROM :reader;
DROP ROLE :reader;
