--
-- pdist_aggregates: sum, avg, avg_ci, expected_count, mixture, empirical;
-- serial and parallel plans give the same answers.
--
SET search_path = public, ttpdb;

CREATE TABLE agg_readings (id int, sensor text, reading pdist, raw float8);
INSERT INTO agg_readings
SELECT i, 's' || (i % 3),
	discrete(ARRAY[20 + (i % 7), 21 + (i % 7)], ARRAY[0.25, 0.75]),
	20 + (i % 7) + 0.75
FROM generate_series(1, 3000) i;
ANALYZE agg_readings;

-- sum: the convolution; its mean is the sum of the means.
SELECT round(expected_value(sum(reading))::numeric, 6) AS mean_of_sum,
	round(sum(expected_value(reading))::numeric, 6) AS sum_of_means,
	outcome_count(sum(reading)) <= 1000 AS capped
FROM agg_readings;
SELECT sum(reading) FROM agg_readings WHERE id <= 2;
SELECT sum(reading) FROM agg_readings WHERE false;
SELECT sum(r) FROM (VALUES ('1'::pdist), (NULL), ('2')) v(r);
SELECT sum(r) FROM (VALUES ('1'::pdist), ('"a"')) v(r);

-- avg: the distribution of the mean.
SELECT sensor, round(expected_value(avg(reading))::numeric, 6) AS mean,
	round(avg(raw)::numeric, 6) AS plain_mean
FROM agg_readings GROUP BY sensor ORDER BY sensor;
SELECT avg(r) FROM (VALUES ('{0: 0.5, 2: 0.5}'::pdist), ('{0: 0.5, 2: 0.5}')) v(r);

-- avg_ci over distributions and over plain numbers.
SELECT round(estimate::numeric, 6) AS estimate, round(lower::numeric, 6) AS lower,
	round(upper::numeric, 6) AS upper, level, n
FROM (SELECT (avg_ci(reading, 0.95)).* FROM agg_readings WHERE id <= 10) s;
SELECT round(estimate::numeric, 6) AS estimate, round(lower::numeric, 6) AS lower,
	round(upper::numeric, 6) AS upper, level, n
FROM (SELECT (avg_ci(x, 0.95)).* FROM (VALUES (1.0::float8), (2), (3), (4), (5)) v(x)) s;
SELECT (avg_ci(x, 0.9)).* FROM (VALUES (7.0::float8)) v(x);
SELECT avg_ci(x, 0.9) FROM (VALUES (7.0::float8)) v(x) WHERE false;
SELECT avg_ci(x, 1.5) FROM (VALUES (1.0::float8)) v(x);
SELECT avg_ci(x, l) FROM (VALUES (1.0::float8, 0.9::float8), (2, 0.95)) v(x, l);
SELECT avg_ci(x, 0.9) FROM (VALUES ('NaN'::float8)) v(x);
SELECT avg_ci(r, 0.9) FROM (VALUES ('"a"'::pdist)) v(r);

-- Support functions refuse to run outside an aggregate.
SELECT ttpdb.float8_avg_ci_transfn(NULL, 1, 0.5);
SELECT ttpdb.float8_avg_ci_final('{1,2,3,0.9}');
SELECT ttpdb.pdist_sum_transfn(NULL, '1');

-- expected_count: the expected number of rows where an event holds.
SELECT round(expected_count(reading %> 23)::numeric, 6) AS expected_hot,
	count(*) FILTER (WHERE expected_value(reading) > 23) AS hot_by_mean
FROM agg_readings;
SELECT expected_count(p) FROM (VALUES (0.5::float8), (1.5)) v(p);

-- mixture: pool the rows (equal or relative weights).
SELECT mixture(r) FROM (VALUES ('{1: 1}'::pdist), ('{2: 1}'), ('{2: 1}'), (NULL)) v(r);
SELECT mixture(r, w) FROM (VALUES ('{1: 1}'::pdist, 3.0::float8), ('{2: 1}', 1)) v(r, w);
SELECT mixture(r) FROM (VALUES ('{"a": 0.5, "b": 0.5}'::pdist), ('"c"')) v(r);
SELECT mixture(r) FROM (VALUES ('1'::pdist), ('"c"')) v(r);
SELECT mixture(r, w) FROM (VALUES ('1'::pdist, -1.0::float8)) v(r, w);
SELECT sensor, round(expected_value(mixture(reading))::numeric, 6) AS mean FROM agg_readings
GROUP BY sensor ORDER BY sensor;

-- empirical: the distribution of plain numbers.
SELECT empirical(x) FROM (VALUES (1.0::float8), (2), (2), (3), (NULL)) v(x);
SELECT empirical(x) FROM (VALUES (0.0::float8), ('-0'), (1)) v(x);
SELECT outcome_count(empirical(raw)) AS distinct_values FROM agg_readings;
SELECT empirical(x) FROM (VALUES ('Infinity'::float8)) v(x);
SELECT outcome_count(empirical(i::float8)) AS binned, round(expected_value(empirical(i::float8))::numeric, 4) AS mean
FROM generate_series(1, 25000) i;

-- Parallel plans give the same answers.
CREATE TEMP TABLE serial_results AS
SELECT sum(reading) AS s, avg(reading) AS a, mixture(reading) AS m, empirical(raw) AS e,
	(avg_ci(raw, 0.95)).estimate AS ci,
	mixture(CASE WHEN id % 2 = 0 THEN '"even"'::pdist ELSE '{"odd": 0.5, "x": 0.5}' END) AS c
FROM agg_readings;
SELECT c FROM serial_results;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT sum(reading), mixture(reading) FROM agg_readings;
-- (empirical keeps exact counts, so it is identical; sums and mixtures add
-- floating-point weights in another order, so they agree to 1e-12)
SELECT round(expected_value(p.s)::numeric, 6) = round(expected_value(r.s)::numeric, 6) AS sum_same,
	round(expected_value(p.a)::numeric, 6) = round(expected_value(r.a)::numeric, 6) AS avg_same,
	(SELECT bool_and(x.value = y.value AND abs(x.probability - y.probability) < 1e-12)
	 FROM outcomes(p.m) WITH ORDINALITY x JOIN outcomes(r.m) WITH ORDINALITY y USING (ordinality))
	AND outcome_count(p.m) = outcome_count(r.m) AS mixture_same,
	p.e = r.e AS empirical_same, round(p.ci::numeric, 9) = round(r.ci::numeric, 9) AS ci_same,
	p.c = r.c AS labels_same
FROM (SELECT sum(reading) AS s, avg(reading) AS a, mixture(reading) AS m, empirical(raw) AS e,
	(avg_ci(raw, 0.95)).estimate AS ci,
	mixture(CASE WHEN id % 2 = 0 THEN '"even"'::pdist ELSE '{"odd": 0.5, "x": 0.5}' END) AS c
	FROM agg_readings) p, serial_results r;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

DROP TABLE agg_readings;
