--
-- pdist_index: the canonical order and hash make ORDER BY, DISTINCT,
-- GROUP BY, btree and hash indexes, hash joins and views work.
--
SET search_path = public, ttpdb;

CREATE TABLE labelled (id int PRIMARY KEY, label pdist);
INSERT INTO labelled
SELECT i, CASE i % 4
	WHEN 0 THEN '{"cat": 0.9, "dog": 0.1}'::pdist
	WHEN 1 THEN '{"dog": 0.1, "cat": 0.9}'
	WHEN 2 THEN '{"cat": 0.5, "dog": 0.5}'
	ELSE '{1: 0.5, 3: 0.5}' END
FROM generate_series(1, 2000) i;
INSERT INTO labelled VALUES (5000, '2'), (5001, 'normal(2, 1)'), (5002, '{1.5: 0.5, 2.5: 0.5}');

-- The order: numbers before labels; numbers by mean, then by shape.
SELECT DISTINCT label FROM labelled ORDER BY label;
SELECT label, count(*) FROM labelled GROUP BY label ORDER BY count(*) DESC, label;
SELECT '2'::pdist < 'normal(2, 1)'::pdist AS lt, '{1: 1}'::pdist <= '1'::pdist AS le,
	'{"a": 1}'::pdist > '100'::pdist AS labels_after_numbers, '1'::pdist <> '2'::pdist AS ne,
	pdist_cmp('1', '2') AS cmp;

-- A btree index finds equal distributions; a hash index too.
CREATE INDEX labelled_btree ON labelled (label);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM labelled WHERE label = '{"cat": 0.5, "dog": 0.5}';
SELECT count(*) FROM labelled WHERE label = '{"cat": 0.5, "dog": 0.5}';
EXPLAIN (COSTS OFF) SELECT label FROM labelled WHERE label > '{1: 0.5, 3: 0.5}' ORDER BY label LIMIT 2;
SELECT label FROM labelled WHERE label > '{1: 0.5, 3: 0.5}' ORDER BY label LIMIT 2;
DROP INDEX labelled_btree;
CREATE INDEX labelled_hash ON labelled USING hash (label);
EXPLAIN (COSTS OFF) SELECT count(*) FROM labelled WHERE label = '{"dog": 0.9, "cat": 0.1}';
SELECT count(*) FROM labelled WHERE label = '{"dog": 0.1, "cat": 0.9}';
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Unique constraints see canonical equality.
CREATE TEMP TABLE uniq (d pdist UNIQUE);
INSERT INTO uniq VALUES ('{1: 0.5, 2: 0.5}');
INSERT INTO uniq VALUES ('{2: 0.5, 1: 0.5}');

-- Hash joins and hash aggregation.
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM labelled a JOIN labelled b ON a.label = b.label WHERE a.id < 10;
SELECT count(*) FROM labelled a JOIN labelled b ON a.label = b.label WHERE a.id < 10;
RESET enable_mergejoin;
RESET enable_nestloop;
SET enable_sort = off;
SELECT label, count(*) FROM labelled GROUP BY label ORDER BY 2 DESC, 1;
RESET enable_sort;

-- Hash values agree for equal inputs written differently.
SELECT pdist_hash('{1: 0.5, 2: 0.5}') = pdist_hash('{2: 0.5, 1: 0.5}') AS hash_same,
	pdist_hash_extended('{1: 0.5, 2: 0.5}', 7) = pdist_hash_extended('{2: 0.5, 1: 0.5}', 7) AS hash_ext_same;

-- Views over the functions and operators.  The column mixes numeric and
-- categorical values, and the order in which AND-ed conditions run is the
-- planner's choice, so the view guards the categorical operator with CASE.
CREATE VIEW likely_cats AS
SELECT id, p_cat, most_likely_label(label) AS guess
FROM (SELECT id, label,
             CASE WHEN kind(label) = 'categorical' THEN label %= 'cat'::text END AS p_cat
      FROM labelled) s
WHERE p_cat > 0.6;
SELECT count(*), min(p_cat), max(guess) FROM likely_cats;
DROP VIEW likely_cats;
DROP TABLE labelled;
