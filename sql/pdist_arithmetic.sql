--
-- pdist_arithmetic: + - * / of independent distributions and numbers,
-- comparisons that return a probability, interpolation.
--
SET search_path = public, ttpdb;

-- With numbers: shift and scale.
SELECT '{1: 0.5, 2: 0.5}'::pdist + 10 AS plus, 10 + '{1: 0.5, 2: 0.5}'::pdist AS plus_left,
	'{1: 0.5, 2: 0.5}'::pdist - 1 AS minus, 10 - '{1: 0.5, 2: 0.5}'::pdist AS minus_left;
SELECT '{1: 0.5, 2: 0.5}'::pdist * 3 AS times, -2 * '{1: 0.5, 2: 0.5}'::pdist AS times_left,
	'{1: 0.5, 2: 0.5}'::pdist * 0 AS times_zero, '{1: 0.5, 2: 0.5}'::pdist / 4 AS divided,
	- '{1: 0.5, 2: 0.5}'::pdist AS negated;
SELECT normal(1, 2) + 3 AS shifted, normal(1, 2) * -2 AS scaled;
-- Division divides: certain(49) / 49 is exactly 1, as in float8.
SELECT certain(49) / 49 AS one, '{1: 0.5, 2: 0.5}'::pdist / -2 AS negative_divisor,
	normal(10, 4) / -2 AS normal_divided;
SELECT '{1: 1}'::pdist / 0;
SELECT '{1: 1}'::pdist + 'NaN'::float8;
SELECT '{1: 1}'::pdist * 'Infinity'::float8;
SELECT '{1e308: 1}'::pdist * 10;
-- overflow is numeric_value_out_of_range (22003) whichever operation
\set VERBOSITY sqlstate
SELECT '{1e308: 1}'::pdist + '{1e308: 1}'::pdist;
SELECT '{1e308: 1}'::pdist * '{10: 1}'::pdist;
SELECT sum(d) FROM (VALUES ('{1e308: 1}'::pdist), ('{1e308: 1}')) v(d);
\set VERBOSITY default
SELECT '"a"'::pdist + 1;

-- Two dice: the convolution has 11 outcomes and P(7) = 1/6.
CREATE TEMP TABLE dice AS
SELECT '{1: 0.16666666666666666, 2: 0.16666666666666666, 3: 0.16666666666666666,
         4: 0.16666666666666666, 5: 0.16666666666666666, 6: 0.16666666666666669}'::pdist AS d;
SELECT outcome_count(d + d) AS outcomes, round(probability(d + d, 7)::numeric, 12) AS p7,
	round(expected_value(d + d)::numeric, 12) AS mean, round(variance(d + d)::numeric, 12) AS var
FROM dice;
SELECT support(d - d) FROM dice;
SELECT outcome_count(d * d) AS products, round(expected_value(d * d)::numeric, 10) AS mean
FROM dice;

-- Normals add exactly; a normal plus a discrete value is a mixture.
SELECT normal(1, 3) + normal(2, 4) AS sum_of_normals, normal(0, 1) - normal(0, 1) AS difference;
SELECT normal(0, 1) + '{0: 0.5, 10: 0.5}'::pdist AS mixture;
SELECT kind(normal(1, 1) * normal(2, 1)) AS product_kind,
	round(expected_value(normal(1, 1) * normal(2, 1))::numeric, 6) AS product_mean;
SELECT '"a"'::pdist + '1'::pdist;

-- The support cap: a sum keeps at most 1000 components and its mean.
SELECT outcome_count(a + b) AS capped, round(expected_value(a + b)::numeric, 6) AS mean
FROM (SELECT discrete(array_agg(i::float8), array_agg(0.01)) AS a,
             discrete(array_agg(i * 1000.0 + 0.5), array_agg(0.01)) AS b
      FROM generate_series(1, 100) i) s;

-- Comparisons return a probability.
SELECT '{1: 0.2, 2: 0.5, 3: 0.3}'::pdist %> 2 AS gt, '{1: 0.2, 2: 0.5, 3: 0.3}'::pdist %>= 2 AS ge,
	'{1: 0.2, 2: 0.5, 3: 0.3}'::pdist %< 2 AS lt, '{1: 0.2, 2: 0.5, 3: 0.3}'::pdist %<= 2 AS le,
	'{1: 0.2, 2: 0.5, 3: 0.3}'::pdist %= 2 AS eq;
SELECT 2 %< '{1: 0.2, 2: 0.5, 3: 0.3}'::pdist AS left_lt, 2 %>= '{1: 0.2, 2: 0.5, 3: 0.3}'::pdist AS left_ge,
	2 %= '{1: 0.2, 2: 0.5, 3: 0.3}'::pdist AS left_eq;
SELECT round((normal(20.5, 0.4) %> 21)::numeric, 10) AS p_above, round((normal(0, 1) %< 0)::numeric, 10) AS half;
-- A label literal on the right of %= needs ::text: PostgreSQL takes an
-- untyped literal to be of the other operand's type, pdist.  A certain
-- pdist works too.
SELECT '{"red": 0.7, "blue": 0.3}'::pdist %= 'red'::text AS red,
	'{"red": 0.7, "blue": 0.3}'::pdist %= '"red"' AS red_as_pdist;
SELECT '{"red": 0.7, "blue": 0.3}'::pdist %= 'red';
SELECT '{1: 0.5, 2: 0.5}'::pdist %> '{1: 0.5, 2: 0.5}'::pdist AS gt_self,
	'{1: 0.5, 2: 0.5}'::pdist %= '{1: 0.5, 2: 0.5}'::pdist AS eq_self,
	'{1: 0.5, 2: 0.5}'::pdist %>= '{1: 0.5, 2: 0.5}'::pdist AS ge_self,
	'{1: 0.5, 2: 0.5}'::pdist %< '{1: 0.5, 2: 0.5}'::pdist AS lt_self,
	'{1: 0.5, 2: 0.5}'::pdist %<= '{1: 0.5, 2: 0.5}'::pdist AS le_self;
SELECT round((normal(1, 1) %> normal(0, 1))::numeric, 10) AS p;
SELECT '{"a": 0.5, "b": 0.5}'::pdist %= '{"a": 0.5, "c": 0.5}'::pdist AS same_label;
SELECT '{"a": 1}'::pdist %> 1;
SELECT '{"a": 1}'::pdist %> '{"b": 1}'::pdist;
SELECT '{"a": 1}'::pdist %= '1'::pdist;
SELECT '1'::pdist %> 'NaN'::float8;
SELECT '1'::pdist %= 'red'::text;

-- A probability in a WHERE clause, as a view would use it.
CREATE TEMP TABLE sensors (id int, reading pdist);
INSERT INTO sensors VALUES (1, normal(29, 1)), (2, normal(31, 1)), (3, '{30: 0.5, 35: 0.5}');
SELECT id, round((reading %> 30)::numeric, 4) AS p_hot FROM sensors WHERE reading %> 30 > 0.4 ORDER BY id;

-- Interpolation between observations (gap filling).
SELECT interpolate(normal(10, 1), normal(20, 3), 0.5) AS halfway,
	interpolate('{0: 0.5, 10: 0.5}'::pdist, '{10: 0.5, 20: 0.5}'::pdist, 0.25) AS quarter;
SELECT interpolate('{"a": 1}'::pdist, '{"b": 1}'::pdist, 0.25) AS labels;
SELECT interpolate('1'::pdist, '2'::pdist, 0) AS at_start, interpolate('1'::pdist, '2'::pdist, 1) AS at_end;
SELECT interpolate(normal(10, 1), '2000-01-01 00:00+00', normal(20, 1), '2000-01-01 01:00+00',
	'2000-01-01 00:15+00') AS at_quarter_past;
SELECT interpolate('1'::pdist, '2'::pdist, 1.5);
SELECT interpolate('1'::pdist, '"a"'::pdist, 0.5);
SELECT interpolate('1'::pdist, '2000-01-01', '2'::pdist, '1999-01-01', '2000-01-01');
SELECT interpolate('1'::pdist, '2000-01-01', '2'::pdist, '2000-01-02', '2000-01-03');
SELECT interpolate('1'::pdist, '-infinity', '2'::pdist, '2000-01-02', '2000-01-01');
-- the widest legal timestamps do not overflow the fraction
SELECT round(expected_value(interpolate(certain(0), '4713-01-01 BC', certain(100), '294276-12-31',
	'200000-01-01'))::numeric, 3) AS far_apart;
