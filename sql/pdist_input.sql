--
-- pdist_input: text and binary forms, canonical form, and every way input
-- can be wrong.
--
SET search_path = public, ttpdb;

-- The four forms, and their canonical output: sorted, duplicates merged,
-- zero-probability outcomes dropped, a certain value printed alone.
SELECT '{20.1: 0.2, 20.5: 0.5, 21: 0.3}'::pdist;
SELECT '{21: 0.3, 20.1: 0.2, 20.5: 0.5}'::pdist;
SELECT '{"red": 0.7, "blue": 0.3}'::pdist;
SELECT '42'::pdist, '"red"'::pdist, '-0'::pdist, '{7: 1}'::pdist;
SELECT 'normal(20.5, 0.4)'::pdist, 'NORMAL ( 1 , 0 )'::pdist;
SELECT '{normal(20, 1): 0.5, 21: 0.25, 19: 0.25}'::pdist;
SELECT '{1: 0.25, 1: 0.25, 2: 0.5, 3: 0}'::pdist;
SELECT '{"a\"b": 0.5, "back\\slash": 0.5}'::pdist;
SELECT ' { 1e2 : .5 ,2.: 5e-1 } '::pdist;

-- Canonical form is a fixed point: printing and reading a value back gives
-- the same value, for values that were renormalised along the way too.
SELECT count(*) AS changed_by_round_trip
FROM (SELECT mixture(ARRAY[discrete(ARRAY[i, i + 1], ARRAY[0.3, 0.7]), discrete(ARRAY[i * 3], ARRAY[1])],
                     ARRAY[i, 7]) AS d
      FROM generate_series(1, 2000) i) s
WHERE d::text::pdist <> d OR d::jsonb::pdist <> d;

-- Equal inputs give equal values.
SELECT '{1: 0.5, 2: 0.5}'::pdist = '{2: 0.5, 1: 0.5}'::pdist AS same;

-- Probabilities that sum to 1 within the documented tolerance (1e-6) are
-- renormalised; beyond it they are refused.
SELECT '{1: 0.3333333, 2: 0.3333333, 3: 0.3333333}'::pdist;
SELECT '{1: 0.5, 2: 0.4}'::pdist;
SELECT '{1: 0.5, 2: 0.6}'::pdist;

-- Malformed text.
SELECT ''::pdist;
SELECT '{}'::pdist;
SELECT '{1: 0.5, 2: 0.5'::pdist;
SELECT '{1 0.5}'::pdist;
SELECT '{1: 0.5,, 2: 0.5}'::pdist;
SELECT '{1: 1} trailing'::pdist;
SELECT 'red'::pdist;
SELECT '"unterminated'::pdist;
SELECT '{"a\x": 1}'::pdist;
SELECT '0x10'::pdist;
SELECT 'normal(1)'::pdist;

-- Numbers that are not finite, probabilities that are not probabilities.
SELECT 'NaN'::pdist;
SELECT '{Infinity: 1}'::pdist;
SELECT '{1e999: 1}'::pdist;
SELECT '{1: NaN}'::pdist;
SELECT '{1: -0.5, 2: 1.5}'::pdist;
SELECT '{1: 1e999}'::pdist;
SELECT 'normal(1, -1)'::pdist;
SELECT 'normal(NaN, 1)'::pdist;

-- Numbers and labels do not mix.
SELECT '{1: 0.5, "a": 0.5}'::pdist;

-- Size limits: 10000 outcomes, 1024-byte labels.
SELECT outcome_count(('{' || string_agg(i || ': 0.0001', ', ') || '}')::pdist)
FROM generate_series(1, 10000) i;
SELECT ('{' || string_agg(i || ': 0.0001', ', ') || '}')::pdist
FROM generate_series(1, 10001) i;
SELECT length(most_likely_label(('"' || repeat('x', 1024) || '"')::pdist));
SELECT ('"' || repeat('x', 1025) || '"')::pdist;

-- Constructors.
SELECT certain(20.5), certain(3), certain(3::bigint), certain(2.5::float8), certain('red');
SELECT normal(0, 1), normal(5, 0);
SELECT normal(0, -1);
SELECT normal(0, 'NaN');
SELECT normal(0, 'Infinity');
SELECT discrete(ARRAY[3, 1, 2], ARRAY[0.2, 0.3, 0.5]);
SELECT discrete(ARRAY[1, 2], ARRAY[0.5]);
SELECT discrete(ARRAY[1, NULL], ARRAY[0.5, 0.5]);
SELECT discrete(ARRAY[[1, 2]], ARRAY[[0.5, 0.5]]);
SELECT discrete('{}', '{}');
SELECT discrete(ARRAY['NaN'::float8], ARRAY[1]);
SELECT categorical(ARRAY['red', 'blue'], ARRAY[0.7, 0.3]);
SELECT categorical(ARRAY['red', 'blue'], ARRAY[0.7, 0.7]);
SELECT mixture(ARRAY['{1: 0.5, 2: 0.5}'::pdist, '3'], ARRAY[3, 1]);
SELECT mixture(ARRAY['1'::pdist, '"a"'], ARRAY[1, 1]);
SELECT mixture(ARRAY['1'::pdist, '2'], ARRAY[0, 0]);
SELECT mixture(ARRAY['1'::pdist, '2'], ARRAY[-1, 2]);
SELECT mixture('{1: 1}'::pdist, '{2: 1}'::pdist, 0.25);
SELECT mixture('1'::pdist, '2'::pdist, 1.5);

-- Assignment casts from numbers.
CREATE TEMP TABLE readings (id int, r pdist);
INSERT INTO readings VALUES (1, 20.5), (2, 21), (3, 22.25::float8), (4, NULL),
	(5, '{20: 0.5, 21: 0.5}');
SELECT * FROM readings ORDER BY id;

-- NULL in, NULL out (the functions are strict).
SELECT expected_value(NULL::pdist), collapse(NULL::pdist, 0.5), normal(NULL, 1),
	NULL::pdist + 1 IS NULL AS sum_is_null;

-- Binary form: send, and a COPY BINARY round trip through recv.
SELECT pdist_send('{1: 0.25, 2: 0.75}');
SELECT pdist_send('"a"');
\getenv abs_builddir PG_ABS_BUILDDIR
\set bin_file :abs_builddir '/results/pdist_input.bin'
COPY readings TO :'bin_file' WITH (FORMAT binary);
CREATE TEMP TABLE readings_copy (LIKE readings);
COPY readings_copy FROM :'bin_file' WITH (FORMAT binary);
SELECT a.id, a.r = b.r AS same FROM readings a JOIN readings_copy b USING (id) ORDER BY id;

-- JSON in both directions.
SELECT '{20.1: 0.2, 20.5: 0.8}'::pdist::jsonb, '{"red": 0.7, "blue": 0.3}'::pdist::jsonb,
	'{normal(1, 2): 0.5, 3: 0.5}'::pdist::jsonb;
SELECT '[[20.1, 0.2], [20.5, 0.8]]'::jsonb::pdist, '{"red": 0.7, "blue": 0.3}'::jsonb::pdist,
	'[{"mean": 1, "stddev": 2, "probability": 1}]'::jsonb::pdist, '42'::jsonb::pdist, '"x"'::jsonb::pdist;
SELECT d::jsonb::pdist = d AS round_trip
FROM (VALUES ('{1: 0.1, 2: 0.9}'::pdist), ('{"a": 0.5, "b": 0.5}'), ('normal(3, 4)')) v(d);
SELECT '[[1, 0.5], [2, 0.4]]'::jsonb::pdist;
SELECT '{"red": "high"}'::jsonb::pdist;
SELECT '[[1, 2, 3]]'::jsonb::pdist;
SELECT 'true'::jsonb::pdist;
