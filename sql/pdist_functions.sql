--
-- pdist_functions: what one distribution tells: moments, probabilities,
-- quantiles, COLLAPSE, UNCERTAINTY, support, sampling, the histogram.
-- Results of transcendental maths are rounded so the test does not depend
-- on the last digit of the platform's libm.
--
SET search_path = public, ttpdb;

CREATE TEMP TABLE dists (name text PRIMARY KEY, d pdist);
INSERT INTO dists VALUES
	('reading', '{20.1: 0.2, 20.5: 0.5, 21: 0.3}'),
	('die', '{1: 0.16666666666666666, 2: 0.16666666666666666, 3: 0.16666666666666666,
	          4: 0.16666666666666666, 5: 0.16666666666666666, 6: 0.16666666666666669}'),
	('certain', '42'),
	('normal', 'normal(20.5, 0.4)'),
	('mixture', '{normal(0, 1): 0.5, normal(10, 1): 0.5}'),
	('colour', '{"red": 0.7, "blue": 0.2, "green": 0.1}');

SELECT name, kind(d), outcome_count(d), is_certain(d) FROM dists ORDER BY name;

-- Moments.
SELECT name, round(expected_value(d)::numeric, 10) AS mean,
	round(variance(d)::numeric, 10) AS variance, round(stddev(d)::numeric, 10) AS stddev
FROM dists WHERE name <> 'colour' ORDER BY name;
SELECT expected_value('{"red": 1}'::pdist);
SELECT variance('"red"'::pdist);

-- Point probabilities, the cdf and quantiles.
SELECT probability(d, 20.5) AS p_20_5, probability(d, 20.4) AS p_20_4,
	cdf(d, 20.5) AS cdf_20_5, cdf(d, 0) AS cdf_0, cdf(d, 100) AS cdf_100
FROM dists WHERE name = 'reading';
SELECT quantile(d, 0) AS q0, quantile(d, 0.2) AS q20, quantile(d, 0.21) AS q21,
	quantile(d, 0.5) AS q50, quantile(d, 1) AS q100
FROM dists WHERE name = 'reading';
SELECT round(cdf(d, 20.5)::numeric, 10) AS cdf_mean, round(quantile(d, 0.975)::numeric, 6) AS q975,
	quantile(d, 0) AS q0, quantile(d, 1) AS q1, probability(d, 20.5) AS point
FROM dists WHERE name = 'normal';
SELECT round(cdf(d, 5)::numeric, 10) AS cdf_mid, round(quantile(d, 0.5)::numeric, 6) AS median
FROM dists WHERE name = 'mixture';
SELECT probability(d, 'red') AS red, probability(d, 'purple') AS purple
FROM dists WHERE name = 'colour';
SELECT probability('"red"'::pdist, 1);
SELECT probability('1'::pdist, 'red');
SELECT cdf('"red"'::pdist, 1);
SELECT cdf('1'::pdist, 'NaN');
-- Tiny probabilities are not rounded away, nor is p just above a step.
SELECT quantile('{1: 1e-20, 2: 1}'::pdist, 1e-14) AS tiny, quantile('{1: 0.5, 2: 0.5}'::pdist, 0.5 + 5e-13) AS just_above;
SELECT quantile('1'::pdist, 1.5);
SELECT quantile('1'::pdist, -0.1);
SELECT quantile('1'::pdist, 'NaN');

-- Confidence intervals (equal-tailed).
SELECT (confidence_interval(d, 0.95)).* FROM dists WHERE name = 'reading';
SELECT round(lower::numeric, 6) AS lower, round(upper::numeric, 6) AS upper
FROM dists, confidence_interval(d, 0.95) WHERE name = 'normal';
SELECT confidence_interval('1'::pdist, 1);
SELECT confidence_interval('1'::pdist, 0);
SELECT confidence_interval('"a"'::pdist, 0.9);

-- The most likely outcome; ties go to the first in canonical order.
SELECT name, most_likely(d) FROM dists WHERE name NOT IN ('colour') ORDER BY name;
SELECT most_likely_label(d) FROM dists WHERE name = 'colour';
SELECT most_likely('{1: 0.5, 2: 0.5}'::pdist), most_likely_label('{"b": 0.5, "a": 0.5}'::pdist);
SELECT most_likely('"a"'::pdist);
SELECT most_likely_label('1'::pdist);

-- COLLAPSE: keep the most likely outcomes until their mass reaches the
-- threshold, renormalise.  The operator form is d @ p.
SELECT name, collapse(d, 0.5) AS half, collapse(d, 0.8) AS most, collapse(d, 1) AS all_of_it
FROM dists WHERE name IN ('reading', 'colour', 'certain') ORDER BY name;
SELECT collapse(d) AS single FROM dists WHERE name IN ('reading', 'colour') ORDER BY name;
SELECT d @ 0.8 = collapse(d, 0.8) AS operator_agrees FROM dists ORDER BY name;
SELECT collapse('{1: 0.25, 2: 0.25, 3: 0.5}'::pdist, 0.6);
SELECT kind(collapse(d, 0.9)), outcome_count(collapse(d, 0.9)),
	round(expected_value(collapse(d, 0.9))::numeric, 6) AS mean
FROM dists WHERE name = 'normal';
SELECT collapse('1'::pdist, 0);
SELECT collapse('1'::pdist, 1.01);
SELECT collapse('1'::pdist, 'NaN');

-- UNCERTAINTY: entropy in bits; for a normal, differential entropy, which
-- is negative when the spread is below about 0.242.  Operator form: ~ d.
SELECT name, round(uncertainty(d)::numeric, 6) AS bits FROM dists ORDER BY name;
SELECT round((~ d)::numeric, 6) = round(uncertainty(d)::numeric, 6) AS operator_agrees
FROM dists ORDER BY name;
SELECT round(uncertainty(normal(0, 0.1))::numeric, 6) AS narrow_normal;
SELECT round(entropy('{"a": 0.5, "b": 0.5}'::pdist, exp(1))::numeric, 10) AS nats,
	round(entropy('{"a": 0.5, "b": 0.5}'::pdist, 10)::numeric, 10) AS hartleys;
SELECT entropy('1'::pdist, 1);
SELECT entropy('1'::pdist, -2);
SELECT uncertainty('{normal(0, 1): 0.5, 3: 0.5}'::pdist);
-- location does not matter; a component too narrow for its distance from
-- the others cannot be integrated in double precision
SELECT round(uncertainty('{normal(1000000000, 1): 0.5, normal(1000000100, 1): 0.5}'::pdist)::numeric, 6) AS far_out;
SELECT uncertainty('{normal(1.7e15, 0.1): 0.5, normal(0, 0.1): 0.5}'::pdist);

-- Support, labels, outcomes, top-k, discretize.
SELECT support(d) FROM dists WHERE name = 'reading';
SELECT labels(d) FROM dists WHERE name = 'colour';
SELECT support('"a"'::pdist);
SELECT support(normal(0, 1));
SELECT labels('1'::pdist);
SELECT * FROM outcomes('{normal(0, 1): 0.5, 3: 0.5}');
SELECT * FROM outcomes('{"red": 0.7, "blue": 0.3}');
SELECT top_k(d, 2) FROM dists WHERE name IN ('reading', 'colour') ORDER BY name;
SELECT top_k('{1: 0.5, 2: 0.5}'::pdist, 5);
SELECT top_k('1'::pdist, 0);
SELECT outcome_count(discretize(normal(0, 1), 8)) AS points,
	round(expected_value(discretize(normal(3, 1), 8))::numeric, 10) AS mean_kept,
	round(variance(discretize(normal(0, 1)))::numeric, 2) AS variance_close;
SELECT discretize('{1: 0.5, 2: 0.5}'::pdist, 8);
SELECT discretize(normal(0, 1), 1);
SELECT discretize('"a"'::pdist);

-- Seeded sampling is repeatable and follows the distribution.
SELECT sample('{1: 0.5, 2: 0.5}'::pdist, 5, 42) = sample('{1: 0.5, 2: 0.5}'::pdist, 5, 42) AS repeatable;
SELECT array_length(sample(normal(0, 1), 1000, 7), 1) AS n;
SELECT abs(avg(x) - 20.57) < 0.02 AS mean_ok
FROM unnest(sample('{20.1: 0.2, 20.5: 0.5, 21: 0.3}'::pdist, 100000, 1)) x;
SELECT abs(avg(x)) < 0.02 AND abs(stddev(x) - 1) < 0.02 AS normal_ok
FROM unnest(sample(normal(0, 1), 100000, 2)) x;
SELECT x, count(*) > 6500 AS plausible
FROM unnest(sample_labels('{"red": 0.7, "blue": 0.3}'::pdist, 10000, 3)) x GROUP BY x ORDER BY x;
SELECT sample('{1: 1}'::pdist, 0, 1);
SELECT sample('1'::pdist, -1, 1);
SELECT sample('1'::pdist, 1000001, 1);
SELECT sample('"a"'::pdist, 1, 1);
SELECT sample_labels('1'::pdist, 1, 1);

-- The picture.
SELECT histogram(d) FROM dists WHERE name = 'reading';
SELECT histogram(d, 20) FROM dists WHERE name = 'colour';
SELECT histogram('7'::pdist, 10);
SELECT histogram(normal(0, 1), 30);
SELECT histogram('1'::pdist, 5);

-- In a view.
CREATE TEMP VIEW reading_summary AS
SELECT name, round(expected_value(d)::numeric, 3) AS mean, d @ 0.8 AS likely,
	round((~ d)::numeric, 3) AS bits
FROM dists WHERE kind(d) = 'discrete';
SELECT * FROM reading_summary ORDER BY name;
