/* ttpdb 0.1: install script.  Run by CREATE EXTENSION ttpdb. */

\echo Use "CREATE EXTENSION ttpdb" to load this file. \quit

COMMENT ON SCHEMA ttpdb IS 'ttpdb: time-travel probabilistic database';

CREATE FUNCTION ttpdb.library_version() RETURNS text
	AS 'MODULE_PATHNAME', 'ttpdb_library_version'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.library_version() IS
	'Version of the ttpdb shared library loaded by this backend';

CREATE FUNCTION ttpdb.preloaded() RETURNS boolean
	AS 'MODULE_PATHNAME', 'ttpdb_preloaded'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.preloaded() IS
	'Whether ttpdb was loaded through shared_preload_libraries (needed by the temporal access method and the statement log)';

--------------------------------------------------------------------------
-- pdist: probability distributions as values
--------------------------------------------------------------------------

CREATE TYPE ttpdb.pdist;

CREATE FUNCTION ttpdb.pdist_in(cstring) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_out(ttpdb.pdist) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_recv(internal) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_send(ttpdb.pdist) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ttpdb.pdist (
	INPUT = ttpdb.pdist_in,
	OUTPUT = ttpdb.pdist_out,
	RECEIVE = ttpdb.pdist_recv,
	SEND = ttpdb.pdist_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE ttpdb.pdist IS
	'A probability distribution: discrete numbers, categorical labels, a normal, or a mixture';
COMMENT ON FUNCTION ttpdb.pdist_in(cstring) IS 'Text input of pdist: {20.1: 0.2, 20.5: 0.8}, {"red": 0.7, "blue": 0.3}, 42, normal(20.5, 0.4)';
COMMENT ON FUNCTION ttpdb.pdist_out(ttpdb.pdist) IS 'Text output of pdist, in canonical order';
COMMENT ON FUNCTION ttpdb.pdist_recv(internal) IS 'Binary input of pdist';
COMMENT ON FUNCTION ttpdb.pdist_send(ttpdb.pdist) IS 'Binary output of pdist';

CREATE TYPE ttpdb.estimate AS (
	estimate double precision,
	lower double precision,
	upper double precision,
	level double precision,
	n bigint
);
COMMENT ON TYPE ttpdb.estimate IS
	'An estimate with its confidence interval at a level, from n rows (returned by avg_ci)';

-- Constructors ----------------------------------------------------------

CREATE FUNCTION ttpdb.certain(double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_certain_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.certain(double precision) IS 'The distribution that is this number with probability 1';
CREATE FUNCTION ttpdb.certain(numeric) RETURNS ttpdb.pdist
	AS 'SELECT ttpdb.certain($1::double precision)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.certain(numeric) IS 'The distribution that is this number with probability 1';
CREATE FUNCTION ttpdb.certain(bigint) RETURNS ttpdb.pdist
	AS 'SELECT ttpdb.certain($1::double precision)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.certain(bigint) IS 'The distribution that is this number with probability 1';
CREATE FUNCTION ttpdb.certain(integer) RETURNS ttpdb.pdist
	AS 'SELECT ttpdb.certain($1::double precision)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.certain(integer) IS 'The distribution that is this number with probability 1';
CREATE FUNCTION ttpdb.certain(text) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_certain_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.certain(text) IS 'The categorical distribution that is this label with probability 1';

CREATE CAST (double precision AS ttpdb.pdist) WITH FUNCTION ttpdb.certain(double precision) AS ASSIGNMENT;
CREATE CAST (numeric AS ttpdb.pdist) WITH FUNCTION ttpdb.certain(numeric) AS ASSIGNMENT;
CREATE CAST (bigint AS ttpdb.pdist) WITH FUNCTION ttpdb.certain(bigint) AS ASSIGNMENT;
CREATE CAST (integer AS ttpdb.pdist) WITH FUNCTION ttpdb.certain(integer) AS ASSIGNMENT;

CREATE FUNCTION ttpdb.normal(mean double precision, stddev double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_normal' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.normal(double precision, double precision) IS
	'The normal distribution with this mean and standard deviation (0 gives a certain value)';

CREATE FUNCTION ttpdb.discrete(outcomes double precision[], probabilities double precision[]) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_discrete' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.discrete(double precision[], double precision[]) IS
	'A discrete distribution from parallel arrays of numbers and their probabilities';

CREATE FUNCTION ttpdb.categorical(labels text[], probabilities double precision[]) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_categorical' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.categorical(text[], double precision[]) IS
	'A categorical distribution from parallel arrays of labels and their probabilities';

CREATE FUNCTION ttpdb.mixture(components ttpdb.pdist[], weights double precision[]) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_mixture_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.mixture(ttpdb.pdist[], double precision[]) IS
	'The mixture drawing component i with probability proportional to weights[i]';

CREATE FUNCTION ttpdb.mixture(a ttpdb.pdist, b ttpdb.pdist, weight_a double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_mixture_pair' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.mixture(ttpdb.pdist, ttpdb.pdist, double precision) IS
	'The mixture drawing from a with probability weight_a and from b otherwise';

CREATE FUNCTION ttpdb.interpolate(a ttpdb.pdist, b ttpdb.pdist, fraction double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_interpolate_fraction' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.interpolate(ttpdb.pdist, ttpdb.pdist, double precision) IS
	'The distribution a fraction of the way from a to b (quantile interpolation for numbers, mixture for labels)';

CREATE FUNCTION ttpdb.interpolate(a ttpdb.pdist, time_a timestamptz, b ttpdb.pdist, time_b timestamptz, at timestamptz) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_interpolate_time' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.interpolate(ttpdb.pdist, timestamptz, ttpdb.pdist, timestamptz, timestamptz) IS
	'Gap filling: the distribution at a time between two observations';

-- Properties --------------------------------------------------------------

CREATE FUNCTION ttpdb.expected_value(ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_expected_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.expected_value(ttpdb.pdist) IS 'Expected value (mean) of a numeric distribution';

CREATE FUNCTION ttpdb.variance(ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_variance_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.variance(ttpdb.pdist) IS 'Variance of a numeric distribution';

CREATE FUNCTION ttpdb.stddev(ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_stddev_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.stddev(ttpdb.pdist) IS 'Standard deviation of a numeric distribution';

CREATE FUNCTION ttpdb.probability(ttpdb.pdist, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_probability_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.probability(ttpdb.pdist, double precision) IS 'P(X = x) for a numeric distribution';

CREATE FUNCTION ttpdb.probability(ttpdb.pdist, text) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_probability_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.probability(ttpdb.pdist, text) IS 'P(X = label) for a categorical distribution';

CREATE FUNCTION ttpdb.cdf(ttpdb.pdist, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_cdf_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.cdf(ttpdb.pdist, double precision) IS 'Cumulative distribution function: P(X <= x)';

CREATE FUNCTION ttpdb.quantile(ttpdb.pdist, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_quantile_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.quantile(ttpdb.pdist, double precision) IS 'The smallest x with P(X <= x) >= p';

CREATE FUNCTION ttpdb.confidence_interval(d ttpdb.pdist, level double precision,
	OUT lower double precision, OUT upper double precision)
	AS 'MODULE_PATHNAME', 'pdist_confidence_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.confidence_interval(ttpdb.pdist, double precision) IS
	'Equal-tailed interval holding at least the given probability: (quantile((1-level)/2), quantile((1+level)/2))';

CREATE FUNCTION ttpdb.most_likely(ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_most_likely' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.most_likely(ttpdb.pdist) IS 'The most likely number (the mode) of a numeric distribution';

CREATE FUNCTION ttpdb.most_likely_label(ttpdb.pdist) RETURNS text
	AS 'MODULE_PATHNAME', 'pdist_most_likely_label' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.most_likely_label(ttpdb.pdist) IS 'The most likely label of a categorical distribution';

CREATE FUNCTION ttpdb.collapse(ttpdb.pdist, threshold double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_collapse_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.collapse(ttpdb.pdist, double precision) IS
	'COLLAPSE: keep the most likely outcomes until their probability reaches the threshold, renormalised';

CREATE FUNCTION ttpdb.collapse(ttpdb.pdist) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_collapse_mode' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.collapse(ttpdb.pdist) IS
	'COLLAPSE to the single most likely outcome, as a certain value';

CREATE FUNCTION ttpdb.uncertainty(ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_uncertainty' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.uncertainty(ttpdb.pdist) IS
	'UNCERTAINTY: Shannon entropy in bits (differential entropy for normals and their mixtures)';

CREATE FUNCTION ttpdb.entropy(ttpdb.pdist, base double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_entropy_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.entropy(ttpdb.pdist, double precision) IS
	'Entropy in the given logarithm base (2: bits, e: nats, 10: hartleys)';

CREATE FUNCTION ttpdb.support(ttpdb.pdist) RETURNS double precision[]
	AS 'MODULE_PATHNAME', 'pdist_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.support(ttpdb.pdist) IS 'The numbers a discrete distribution can take, ascending';

CREATE FUNCTION ttpdb.labels(ttpdb.pdist) RETURNS text[]
	AS 'MODULE_PATHNAME', 'pdist_labels' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.labels(ttpdb.pdist) IS 'The labels a categorical distribution can take, in byte order';

CREATE FUNCTION ttpdb.outcomes(ttpdb.pdist,
	OUT value double precision, OUT label text, OUT stddev double precision, OUT probability double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pdist_outcomes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION ttpdb.outcomes(ttpdb.pdist) IS
	'One row per outcome or normal component, in canonical order';

CREATE FUNCTION ttpdb.top_k(ttpdb.pdist, k integer) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_top_k_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.top_k(ttpdb.pdist, integer) IS 'The k most likely outcomes, renormalised';

CREATE FUNCTION ttpdb.discretize(ttpdb.pdist, bins integer DEFAULT 64) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_discretize_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.discretize(ttpdb.pdist, integer) IS
	'A discrete distribution with the same mean: each normal component becomes this many points';

CREATE FUNCTION ttpdb.sample(ttpdb.pdist, n integer, seed bigint) RETURNS double precision[]
	AS 'MODULE_PATHNAME', 'pdist_sample' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.sample(ttpdb.pdist, integer, bigint) IS
	'n random draws from a numeric distribution; the same seed gives the same draws';

CREATE FUNCTION ttpdb.sample_labels(ttpdb.pdist, n integer, seed bigint) RETURNS text[]
	AS 'MODULE_PATHNAME', 'pdist_sample_labels' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.sample_labels(ttpdb.pdist, integer, bigint) IS
	'n random draws from a categorical distribution; the same seed gives the same draws';

CREATE FUNCTION ttpdb.histogram(ttpdb.pdist, width integer DEFAULT 40) RETURNS text
	AS 'MODULE_PATHNAME', 'pdist_histogram_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.histogram(ttpdb.pdist, integer) IS 'A text histogram of the distribution, for psql';

CREATE FUNCTION ttpdb.kind(ttpdb.pdist) RETURNS text
	AS 'MODULE_PATHNAME', 'pdist_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.kind(ttpdb.pdist) IS 'discrete, normal, mixture or categorical';

CREATE FUNCTION ttpdb.outcome_count(ttpdb.pdist) RETURNS integer
	AS 'MODULE_PATHNAME', 'pdist_outcome_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.outcome_count(ttpdb.pdist) IS 'Number of outcomes (or normal components)';

CREATE FUNCTION ttpdb.is_certain(ttpdb.pdist) RETURNS boolean
	AS 'MODULE_PATHNAME', 'pdist_is_certain' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.is_certain(ttpdb.pdist) IS 'True when the distribution is one outcome with probability 1';

-- Arithmetic of independent distributions ----------------------------------

CREATE FUNCTION ttpdb.pdist_add(ttpdb.pdist, ttpdb.pdist) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_add_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_add(ttpdb.pdist, double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_add_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_add(double precision, ttpdb.pdist) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'float8_add_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_sub(ttpdb.pdist, ttpdb.pdist) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_sub_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_sub(ttpdb.pdist, double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_sub_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_sub(double precision, ttpdb.pdist) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'float8_sub_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_mul(ttpdb.pdist, ttpdb.pdist) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_mul_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_mul(ttpdb.pdist, double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_mul_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_mul(double precision, ttpdb.pdist) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'float8_mul_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_div(ttpdb.pdist, double precision) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_div_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_neg(ttpdb.pdist) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME', 'pdist_negate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ttpdb.pdist_add(ttpdb.pdist, ttpdb.pdist) IS 'Sum of independent distributions (convolution; implements +)';
COMMENT ON FUNCTION ttpdb.pdist_add(ttpdb.pdist, double precision) IS 'Distribution shifted by a number (implements +)';
COMMENT ON FUNCTION ttpdb.pdist_add(double precision, ttpdb.pdist) IS 'Distribution shifted by a number (implements +)';
COMMENT ON FUNCTION ttpdb.pdist_sub(ttpdb.pdist, ttpdb.pdist) IS 'Difference of independent distributions (implements -)';
COMMENT ON FUNCTION ttpdb.pdist_sub(ttpdb.pdist, double precision) IS 'Distribution shifted by minus a number (implements -)';
COMMENT ON FUNCTION ttpdb.pdist_sub(double precision, ttpdb.pdist) IS 'A number minus a distribution (implements -)';
COMMENT ON FUNCTION ttpdb.pdist_mul(ttpdb.pdist, ttpdb.pdist) IS 'Product of independent distributions (implements *)';
COMMENT ON FUNCTION ttpdb.pdist_mul(ttpdb.pdist, double precision) IS 'Distribution scaled by a number (implements *)';
COMMENT ON FUNCTION ttpdb.pdist_mul(double precision, ttpdb.pdist) IS 'Distribution scaled by a number (implements *)';
COMMENT ON FUNCTION ttpdb.pdist_div(ttpdb.pdist, double precision) IS 'Distribution divided by a number (implements /)';
COMMENT ON FUNCTION ttpdb.pdist_neg(ttpdb.pdist) IS 'Negated distribution (implements prefix -)';

CREATE OPERATOR ttpdb.+ (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_add, COMMUTATOR = OPERATOR(ttpdb.+));
CREATE OPERATOR ttpdb.+ (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.pdist_add, COMMUTATOR = OPERATOR(ttpdb.+));
CREATE OPERATOR ttpdb.+ (LEFTARG = double precision, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_add, COMMUTATOR = OPERATOR(ttpdb.+));
CREATE OPERATOR ttpdb.- (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_sub);
CREATE OPERATOR ttpdb.- (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.pdist_sub);
CREATE OPERATOR ttpdb.- (LEFTARG = double precision, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_sub);
CREATE OPERATOR ttpdb.* (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_mul, COMMUTATOR = OPERATOR(ttpdb.*));
CREATE OPERATOR ttpdb.* (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.pdist_mul, COMMUTATOR = OPERATOR(ttpdb.*));
CREATE OPERATOR ttpdb.* (LEFTARG = double precision, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_mul, COMMUTATOR = OPERATOR(ttpdb.*));
CREATE OPERATOR ttpdb./ (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.pdist_div);
CREATE OPERATOR ttpdb.- (RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_neg);

COMMENT ON OPERATOR ttpdb.+ (ttpdb.pdist, ttpdb.pdist) IS 'Sum of independent distributions';
COMMENT ON OPERATOR ttpdb.+ (ttpdb.pdist, double precision) IS 'Distribution plus a number';
COMMENT ON OPERATOR ttpdb.+ (double precision, ttpdb.pdist) IS 'Number plus a distribution';
COMMENT ON OPERATOR ttpdb.- (ttpdb.pdist, ttpdb.pdist) IS 'Difference of independent distributions';
COMMENT ON OPERATOR ttpdb.- (ttpdb.pdist, double precision) IS 'Distribution minus a number';
COMMENT ON OPERATOR ttpdb.- (double precision, ttpdb.pdist) IS 'Number minus a distribution';
COMMENT ON OPERATOR ttpdb.* (ttpdb.pdist, ttpdb.pdist) IS 'Product of independent distributions';
COMMENT ON OPERATOR ttpdb.* (ttpdb.pdist, double precision) IS 'Distribution times a number';
COMMENT ON OPERATOR ttpdb.* (double precision, ttpdb.pdist) IS 'Number times a distribution';
COMMENT ON OPERATOR ttpdb./ (ttpdb.pdist, double precision) IS 'Distribution divided by a number';
COMMENT ON OPERATOR ttpdb.- (NONE, ttpdb.pdist) IS 'Negated distribution';

-- Comparisons that return a probability ------------------------------------

CREATE FUNCTION ttpdb.prob_gt(ttpdb.pdist, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_ge(ttpdb.pdist, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_lt(ttpdb.pdist, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_le(ttpdb.pdist, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_eq(ttpdb.pdist, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_eq(ttpdb.pdist, text) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_probability_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_gt(ttpdb.pdist, ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_gt_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_ge(ttpdb.pdist, ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_ge_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_lt(ttpdb.pdist, ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_lt_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_le(ttpdb.pdist, ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_le_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_eq(ttpdb.pdist, ttpdb.pdist) RETURNS double precision
	AS 'MODULE_PATHNAME', 'pdist_prob_eq_pdist' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- number on the left: P(x < X) is P(X > x), and so on
CREATE FUNCTION ttpdb.prob_gt(double precision, ttpdb.pdist) RETURNS double precision
	AS 'SELECT ttpdb.prob_lt($2, $1)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_ge(double precision, ttpdb.pdist) RETURNS double precision
	AS 'SELECT ttpdb.prob_le($2, $1)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_lt(double precision, ttpdb.pdist) RETURNS double precision
	AS 'SELECT ttpdb.prob_gt($2, $1)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_le(double precision, ttpdb.pdist) RETURNS double precision
	AS 'SELECT ttpdb.prob_ge($2, $1)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.prob_eq(double precision, ttpdb.pdist) RETURNS double precision
	AS 'SELECT ttpdb.prob_eq($2, $1)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ttpdb.prob_gt(ttpdb.pdist, double precision) IS 'P(X > x) (implements %>)';
COMMENT ON FUNCTION ttpdb.prob_ge(ttpdb.pdist, double precision) IS 'P(X >= x) (implements %>=)';
COMMENT ON FUNCTION ttpdb.prob_lt(ttpdb.pdist, double precision) IS 'P(X < x) (implements %<)';
COMMENT ON FUNCTION ttpdb.prob_le(ttpdb.pdist, double precision) IS 'P(X <= x) (implements %<=)';
COMMENT ON FUNCTION ttpdb.prob_eq(ttpdb.pdist, double precision) IS 'P(X = x) (implements %=)';
COMMENT ON FUNCTION ttpdb.prob_eq(ttpdb.pdist, text) IS 'P(X = label) for a categorical distribution (implements %=)';
COMMENT ON FUNCTION ttpdb.prob_gt(ttpdb.pdist, ttpdb.pdist) IS 'P(X > Y) for independent X and Y (implements %>)';
COMMENT ON FUNCTION ttpdb.prob_ge(ttpdb.pdist, ttpdb.pdist) IS 'P(X >= Y) for independent X and Y (implements %>=)';
COMMENT ON FUNCTION ttpdb.prob_lt(ttpdb.pdist, ttpdb.pdist) IS 'P(X < Y) for independent X and Y (implements %<)';
COMMENT ON FUNCTION ttpdb.prob_le(ttpdb.pdist, ttpdb.pdist) IS 'P(X <= Y) for independent X and Y (implements %<=)';
COMMENT ON FUNCTION ttpdb.prob_eq(ttpdb.pdist, ttpdb.pdist) IS 'P(X = Y) for independent X and Y (implements %=)';
COMMENT ON FUNCTION ttpdb.prob_gt(double precision, ttpdb.pdist) IS 'P(x > X) (implements %>)';
COMMENT ON FUNCTION ttpdb.prob_ge(double precision, ttpdb.pdist) IS 'P(x >= X) (implements %>=)';
COMMENT ON FUNCTION ttpdb.prob_lt(double precision, ttpdb.pdist) IS 'P(x < X) (implements %<)';
COMMENT ON FUNCTION ttpdb.prob_le(double precision, ttpdb.pdist) IS 'P(x <= X) (implements %<=)';
COMMENT ON FUNCTION ttpdb.prob_eq(double precision, ttpdb.pdist) IS 'P(x = X) (implements %=)';

CREATE OPERATOR ttpdb.%> (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.prob_gt, COMMUTATOR = OPERATOR(ttpdb.%<));
CREATE OPERATOR ttpdb.%>= (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.prob_ge, COMMUTATOR = OPERATOR(ttpdb.%<=));
CREATE OPERATOR ttpdb.%< (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.prob_lt, COMMUTATOR = OPERATOR(ttpdb.%>));
CREATE OPERATOR ttpdb.%<= (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.prob_le, COMMUTATOR = OPERATOR(ttpdb.%>=));
CREATE OPERATOR ttpdb.%= (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.prob_eq, COMMUTATOR = OPERATOR(ttpdb.%=));
CREATE OPERATOR ttpdb.%= (LEFTARG = ttpdb.pdist, RIGHTARG = text, FUNCTION = ttpdb.prob_eq);
CREATE OPERATOR ttpdb.%> (LEFTARG = double precision, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_gt, COMMUTATOR = OPERATOR(ttpdb.%<));
CREATE OPERATOR ttpdb.%>= (LEFTARG = double precision, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_ge, COMMUTATOR = OPERATOR(ttpdb.%<=));
CREATE OPERATOR ttpdb.%< (LEFTARG = double precision, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_lt, COMMUTATOR = OPERATOR(ttpdb.%>));
CREATE OPERATOR ttpdb.%<= (LEFTARG = double precision, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_le, COMMUTATOR = OPERATOR(ttpdb.%>=));
CREATE OPERATOR ttpdb.%= (LEFTARG = double precision, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_eq, COMMUTATOR = OPERATOR(ttpdb.%=));
CREATE OPERATOR ttpdb.%> (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_gt, COMMUTATOR = OPERATOR(ttpdb.%<));
CREATE OPERATOR ttpdb.%>= (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_ge, COMMUTATOR = OPERATOR(ttpdb.%<=));
CREATE OPERATOR ttpdb.%< (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_lt, COMMUTATOR = OPERATOR(ttpdb.%>));
CREATE OPERATOR ttpdb.%<= (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_le, COMMUTATOR = OPERATOR(ttpdb.%>=));
CREATE OPERATOR ttpdb.%= (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.prob_eq, COMMUTATOR = OPERATOR(ttpdb.%=));

COMMENT ON OPERATOR ttpdb.%> (ttpdb.pdist, double precision) IS 'Probability that the distribution exceeds the number';
COMMENT ON OPERATOR ttpdb.%>= (ttpdb.pdist, double precision) IS 'Probability that the distribution is at least the number';
COMMENT ON OPERATOR ttpdb.%< (ttpdb.pdist, double precision) IS 'Probability that the distribution is below the number';
COMMENT ON OPERATOR ttpdb.%<= (ttpdb.pdist, double precision) IS 'Probability that the distribution is at most the number';
COMMENT ON OPERATOR ttpdb.%= (ttpdb.pdist, double precision) IS 'Probability that the distribution equals the number';
COMMENT ON OPERATOR ttpdb.%= (ttpdb.pdist, text) IS 'Probability that a categorical distribution is the label';
COMMENT ON OPERATOR ttpdb.%> (double precision, ttpdb.pdist) IS 'Probability that the number exceeds the distribution';
COMMENT ON OPERATOR ttpdb.%>= (double precision, ttpdb.pdist) IS 'Probability that the number is at least the distribution';
COMMENT ON OPERATOR ttpdb.%< (double precision, ttpdb.pdist) IS 'Probability that the number is below the distribution';
COMMENT ON OPERATOR ttpdb.%<= (double precision, ttpdb.pdist) IS 'Probability that the number is at most the distribution';
COMMENT ON OPERATOR ttpdb.%= (double precision, ttpdb.pdist) IS 'Probability that the distribution equals the number';
COMMENT ON OPERATOR ttpdb.%> (ttpdb.pdist, ttpdb.pdist) IS 'Probability that X > Y for independent X and Y';
COMMENT ON OPERATOR ttpdb.%>= (ttpdb.pdist, ttpdb.pdist) IS 'Probability that X >= Y for independent X and Y';
COMMENT ON OPERATOR ttpdb.%< (ttpdb.pdist, ttpdb.pdist) IS 'Probability that X < Y for independent X and Y';
COMMENT ON OPERATOR ttpdb.%<= (ttpdb.pdist, ttpdb.pdist) IS 'Probability that X <= Y for independent X and Y';
COMMENT ON OPERATOR ttpdb.%= (ttpdb.pdist, ttpdb.pdist) IS 'Probability that X = Y for independent X and Y';

-- COLLAPSE and UNCERTAINTY as operators
CREATE OPERATOR ttpdb.@ (LEFTARG = ttpdb.pdist, RIGHTARG = double precision, FUNCTION = ttpdb.collapse);
COMMENT ON OPERATOR ttpdb.@ (ttpdb.pdist, double precision) IS 'COLLAPSE: d @ p is collapse(d, p)';
CREATE OPERATOR ttpdb.~ (RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.uncertainty);
COMMENT ON OPERATOR ttpdb.~ (NONE, ttpdb.pdist) IS 'UNCERTAINTY: ~ d is uncertainty(d), entropy in bits';

-- Canonical order, equality and hashing ------------------------------------

CREATE FUNCTION ttpdb.pdist_cmp(ttpdb.pdist, ttpdb.pdist) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_lt(ttpdb.pdist, ttpdb.pdist) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_le(ttpdb.pdist, ttpdb.pdist) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_eq(ttpdb.pdist, ttpdb.pdist) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_ne(ttpdb.pdist, ttpdb.pdist) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_ge(ttpdb.pdist, ttpdb.pdist) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_gt(ttpdb.pdist, ttpdb.pdist) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_hash(ttpdb.pdist) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_hash_extended(ttpdb.pdist, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ttpdb.pdist_cmp(ttpdb.pdist, ttpdb.pdist) IS 'Canonical order of distributions: -1, 0 or 1 (btree support)';
COMMENT ON FUNCTION ttpdb.pdist_lt(ttpdb.pdist, ttpdb.pdist) IS 'Canonical order: less than (implements <)';
COMMENT ON FUNCTION ttpdb.pdist_le(ttpdb.pdist, ttpdb.pdist) IS 'Canonical order: less or equal (implements <=)';
COMMENT ON FUNCTION ttpdb.pdist_eq(ttpdb.pdist, ttpdb.pdist) IS 'Identical distributions (implements =)';
COMMENT ON FUNCTION ttpdb.pdist_ne(ttpdb.pdist, ttpdb.pdist) IS 'Different distributions (implements <>)';
COMMENT ON FUNCTION ttpdb.pdist_ge(ttpdb.pdist, ttpdb.pdist) IS 'Canonical order: greater or equal (implements >=)';
COMMENT ON FUNCTION ttpdb.pdist_gt(ttpdb.pdist, ttpdb.pdist) IS 'Canonical order: greater than (implements >)';
COMMENT ON FUNCTION ttpdb.pdist_hash(ttpdb.pdist) IS 'Hash of the canonical form (hash support)';
COMMENT ON FUNCTION ttpdb.pdist_hash_extended(ttpdb.pdist, bigint) IS 'Seeded hash of the canonical form (hash support)';

CREATE OPERATOR ttpdb.< (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_lt,
	COMMUTATOR = OPERATOR(ttpdb.>), NEGATOR = OPERATOR(ttpdb.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR ttpdb.<= (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_le,
	COMMUTATOR = OPERATOR(ttpdb.>=), NEGATOR = OPERATOR(ttpdb.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR ttpdb.= (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_eq,
	COMMUTATOR = OPERATOR(ttpdb.=), NEGATOR = OPERATOR(ttpdb.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR ttpdb.<> (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_ne,
	COMMUTATOR = OPERATOR(ttpdb.<>), NEGATOR = OPERATOR(ttpdb.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR ttpdb.>= (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_ge,
	COMMUTATOR = OPERATOR(ttpdb.<=), NEGATOR = OPERATOR(ttpdb.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR ttpdb.> (LEFTARG = ttpdb.pdist, RIGHTARG = ttpdb.pdist, FUNCTION = ttpdb.pdist_gt,
	COMMUTATOR = OPERATOR(ttpdb.<), NEGATOR = OPERATOR(ttpdb.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

COMMENT ON OPERATOR ttpdb.< (ttpdb.pdist, ttpdb.pdist) IS 'Canonical order: less than';
COMMENT ON OPERATOR ttpdb.<= (ttpdb.pdist, ttpdb.pdist) IS 'Canonical order: less or equal';
COMMENT ON OPERATOR ttpdb.= (ttpdb.pdist, ttpdb.pdist) IS 'Identical distributions';
COMMENT ON OPERATOR ttpdb.<> (ttpdb.pdist, ttpdb.pdist) IS 'Different distributions';
COMMENT ON OPERATOR ttpdb.>= (ttpdb.pdist, ttpdb.pdist) IS 'Canonical order: greater or equal';
COMMENT ON OPERATOR ttpdb.> (ttpdb.pdist, ttpdb.pdist) IS 'Canonical order: greater than';

CREATE OPERATOR CLASS ttpdb.pdist_ops DEFAULT FOR TYPE ttpdb.pdist USING btree AS
	OPERATOR 1 ttpdb.<,
	OPERATOR 2 ttpdb.<=,
	OPERATOR 3 ttpdb.=,
	OPERATOR 4 ttpdb.>=,
	OPERATOR 5 ttpdb.>,
	FUNCTION 1 ttpdb.pdist_cmp(ttpdb.pdist, ttpdb.pdist);

CREATE OPERATOR CLASS ttpdb.pdist_hash_ops DEFAULT FOR TYPE ttpdb.pdist USING hash AS
	OPERATOR 1 ttpdb.=,
	FUNCTION 1 ttpdb.pdist_hash(ttpdb.pdist),
	FUNCTION 2 ttpdb.pdist_hash_extended(ttpdb.pdist, bigint);

-- Aggregates ----------------------------------------------------------------

CREATE FUNCTION ttpdb.pdist_sum_transfn(internal, ttpdb.pdist) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_avg_ci_transfn(internal, ttpdb.pdist, double precision) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_sum_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_sum_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_sum_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_sum_final(internal) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_avg_final(internal) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_avg_ci_final(internal) RETURNS ttpdb.estimate
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.float8_avg_ci_transfn(double precision[], double precision, double precision) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.float8_avg_ci_combine(double precision[], double precision[]) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.float8_avg_ci_final(double precision[]) RETURNS ttpdb.estimate
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.expected_count_transfn(double precision, double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_mixture_transfn(internal, ttpdb.pdist) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_mixture_transfn(internal, ttpdb.pdist, double precision) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_empirical_transfn(internal, double precision) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_accum_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_accum_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_accum_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ttpdb.pdist_accum_final(internal) RETURNS ttpdb.pdist
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION ttpdb.pdist_sum_transfn(internal, ttpdb.pdist) IS 'Transition function of sum(pdist) and avg(pdist)';
COMMENT ON FUNCTION ttpdb.pdist_avg_ci_transfn(internal, ttpdb.pdist, double precision) IS 'Transition function of avg_ci(pdist, level)';
COMMENT ON FUNCTION ttpdb.pdist_sum_combine(internal, internal) IS 'Combine function of sum, avg and avg_ci over pdist';
COMMENT ON FUNCTION ttpdb.pdist_sum_serialize(internal) IS 'Serial function of sum, avg and avg_ci over pdist';
COMMENT ON FUNCTION ttpdb.pdist_sum_deserialize(bytea, internal) IS 'Deserial function of sum, avg and avg_ci over pdist';
COMMENT ON FUNCTION ttpdb.pdist_sum_final(internal) IS 'Final function of sum(pdist)';
COMMENT ON FUNCTION ttpdb.pdist_avg_final(internal) IS 'Final function of avg(pdist)';
COMMENT ON FUNCTION ttpdb.pdist_avg_ci_final(internal) IS 'Final function of avg_ci(pdist, level)';
COMMENT ON FUNCTION ttpdb.float8_avg_ci_transfn(double precision[], double precision, double precision) IS 'Transition function of avg_ci(float8, level)';
COMMENT ON FUNCTION ttpdb.float8_avg_ci_combine(double precision[], double precision[]) IS 'Combine function of avg_ci(float8, level)';
COMMENT ON FUNCTION ttpdb.float8_avg_ci_final(double precision[]) IS 'Final function of avg_ci(float8, level)';
COMMENT ON FUNCTION ttpdb.expected_count_transfn(double precision, double precision) IS 'Transition function of expected_count(probability)';
COMMENT ON FUNCTION ttpdb.pdist_mixture_transfn(internal, ttpdb.pdist) IS 'Transition function of mixture(pdist)';
COMMENT ON FUNCTION ttpdb.pdist_mixture_transfn(internal, ttpdb.pdist, double precision) IS 'Transition function of mixture(pdist, weight)';
COMMENT ON FUNCTION ttpdb.pdist_empirical_transfn(internal, double precision) IS 'Transition function of empirical(float8)';
COMMENT ON FUNCTION ttpdb.pdist_accum_combine(internal, internal) IS 'Combine function of mixture and empirical';
COMMENT ON FUNCTION ttpdb.pdist_accum_serialize(internal) IS 'Serial function of mixture and empirical';
COMMENT ON FUNCTION ttpdb.pdist_accum_deserialize(bytea, internal) IS 'Deserial function of mixture and empirical';
COMMENT ON FUNCTION ttpdb.pdist_accum_final(internal) IS 'Final function of mixture and empirical';

CREATE AGGREGATE ttpdb.sum(ttpdb.pdist) (
	SFUNC = ttpdb.pdist_sum_transfn, STYPE = internal,
	COMBINEFUNC = ttpdb.pdist_sum_combine,
	SERIALFUNC = ttpdb.pdist_sum_serialize, DESERIALFUNC = ttpdb.pdist_sum_deserialize,
	FINALFUNC = ttpdb.pdist_sum_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ttpdb.sum(ttpdb.pdist) IS 'Distribution of the sum of independent distributions (convolution)';

CREATE AGGREGATE ttpdb.avg(ttpdb.pdist) (
	SFUNC = ttpdb.pdist_sum_transfn, STYPE = internal,
	COMBINEFUNC = ttpdb.pdist_sum_combine,
	SERIALFUNC = ttpdb.pdist_sum_serialize, DESERIALFUNC = ttpdb.pdist_sum_deserialize,
	FINALFUNC = ttpdb.pdist_avg_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ttpdb.avg(ttpdb.pdist) IS 'Distribution of the mean of independent distributions';

CREATE AGGREGATE ttpdb.avg_ci(ttpdb.pdist, double precision) (
	SFUNC = ttpdb.pdist_avg_ci_transfn, STYPE = internal,
	COMBINEFUNC = ttpdb.pdist_sum_combine,
	SERIALFUNC = ttpdb.pdist_sum_serialize, DESERIALFUNC = ttpdb.pdist_sum_deserialize,
	FINALFUNC = ttpdb.pdist_avg_ci_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ttpdb.avg_ci(ttpdb.pdist, double precision) IS
	'Expected mean of independent distributions with its confidence interval at a level';

CREATE AGGREGATE ttpdb.avg_ci(double precision, double precision) (
	SFUNC = ttpdb.float8_avg_ci_transfn, STYPE = double precision[], INITCOND = '{0,0,0,0}',
	COMBINEFUNC = ttpdb.float8_avg_ci_combine,
	FINALFUNC = ttpdb.float8_avg_ci_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE ttpdb.avg_ci(double precision, double precision) IS
	'Mean of numbers with its Student t confidence interval at a level';

CREATE AGGREGATE ttpdb.expected_count(double precision) (
	SFUNC = ttpdb.expected_count_transfn, STYPE = double precision, INITCOND = '0',
	COMBINEFUNC = float8pl, PARALLEL = SAFE);
COMMENT ON AGGREGATE ttpdb.expected_count(double precision) IS
	'Expected number of rows for which an event holds, from each row''s probability (e.g. expected_count(d %> 30))';

CREATE AGGREGATE ttpdb.mixture(ttpdb.pdist) (
	SFUNC = ttpdb.pdist_mixture_transfn, STYPE = internal,
	COMBINEFUNC = ttpdb.pdist_accum_combine,
	SERIALFUNC = ttpdb.pdist_accum_serialize, DESERIALFUNC = ttpdb.pdist_accum_deserialize,
	FINALFUNC = ttpdb.pdist_accum_final, FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE ttpdb.mixture(ttpdb.pdist) IS 'Equal-weight mixture of the distributions (pool the rows)';

CREATE AGGREGATE ttpdb.mixture(ttpdb.pdist, double precision) (
	SFUNC = ttpdb.pdist_mixture_transfn, STYPE = internal,
	COMBINEFUNC = ttpdb.pdist_accum_combine,
	SERIALFUNC = ttpdb.pdist_accum_serialize, DESERIALFUNC = ttpdb.pdist_accum_deserialize,
	FINALFUNC = ttpdb.pdist_accum_final, FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE ttpdb.mixture(ttpdb.pdist, double precision) IS 'Mixture of the distributions with relative weights';

CREATE AGGREGATE ttpdb.empirical(double precision) (
	SFUNC = ttpdb.pdist_empirical_transfn, STYPE = internal,
	COMBINEFUNC = ttpdb.pdist_accum_combine,
	SERIALFUNC = ttpdb.pdist_accum_serialize, DESERIALFUNC = ttpdb.pdist_accum_deserialize,
	FINALFUNC = ttpdb.pdist_accum_final, FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
COMMENT ON AGGREGATE ttpdb.empirical(double precision) IS 'Empirical distribution of numbers: each distinct value with its frequency';

-- JSON ------------------------------------------------------------------------

CREATE FUNCTION ttpdb.pdist_to_jsonb(d ttpdb.pdist) RETURNS jsonb
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET extra_float_digits = 1
	AS $$
	SELECT CASE WHEN ttpdb.kind(d) = 'categorical'
		THEN (SELECT jsonb_object_agg(o.label, o.probability) FROM ttpdb.outcomes(d) o)
		ELSE (SELECT jsonb_agg(CASE WHEN o.stddev = 0
				THEN jsonb_build_array(o.value::text::jsonb, o.probability::text::jsonb)
				ELSE jsonb_build_object('mean', o.value::text::jsonb, 'stddev', o.stddev::text::jsonb,
										'probability', o.probability::text::jsonb) END)
			  FROM ttpdb.outcomes(d) o)
	END
	$$;
COMMENT ON FUNCTION ttpdb.pdist_to_jsonb(ttpdb.pdist) IS
	'JSON form: {"label": p, ...} for labels, [[x, p], ..., {"mean": m, "stddev": s, "probability": p}] for numbers';

CREATE FUNCTION ttpdb.pdist_from_jsonb(j jsonb) RETURNS ttpdb.pdist
	LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	SET extra_float_digits = 1
	AS $$
DECLARE
	parts text[] := '{}';
	e jsonb;
BEGIN
	CASE jsonb_typeof(j)
	WHEN 'number' THEN
		RETURN ttpdb.certain(j::float8);
	WHEN 'string' THEN
		RETURN ttpdb.certain(j #>> '{}');
	WHEN 'object' THEN
		IF EXISTS (SELECT 1 FROM jsonb_each(j) WHERE jsonb_typeof(value) <> 'number') THEN
			RAISE EXCEPTION 'invalid JSON for a pdist: every probability must be a number'
				USING ERRCODE = 'invalid_text_representation',
					  HINT = 'A categorical pdist is an object such as {"red": 0.7, "blue": 0.3}.';
		END IF;
		RETURN ttpdb.categorical(ARRAY(SELECT key FROM jsonb_each(j) ORDER BY key),
								 ARRAY(SELECT value::float8 FROM jsonb_each(j) ORDER BY key));
	WHEN 'array' THEN
		-- Built as the text form and parsed, so that validation, tolerance and
		-- canonical form are exactly those of text input (numbers print
		-- shortest-exact with extra_float_digits = 1).
		FOR e IN SELECT value FROM jsonb_array_elements(j) LOOP
			IF jsonb_typeof(e) = 'array' AND jsonb_array_length(e) = 2
			   AND jsonb_typeof(e->0) = 'number' AND jsonb_typeof(e->1) = 'number' THEN
				parts := parts || format('%s: %s', (e->>0)::float8, (e->>1)::float8);
			ELSIF jsonb_typeof(e) = 'object' AND jsonb_typeof(e->'mean') = 'number'
			   AND jsonb_typeof(e->'stddev') = 'number' AND jsonb_typeof(e->'probability') = 'number' THEN
				parts := parts || format('normal(%s, %s): %s', (e->>'mean')::float8,
										 (e->>'stddev')::float8, (e->>'probability')::float8);
			ELSE
				RAISE EXCEPTION 'invalid JSON for a pdist outcome: %', e
					USING ERRCODE = 'invalid_text_representation',
						  HINT = 'Numeric outcomes are [value, probability] or {"mean": m, "stddev": s, "probability": p}.';
			END IF;
		END LOOP;
		RETURN ('{' || array_to_string(parts, ', ') || '}')::ttpdb.pdist;
	ELSE
		RAISE EXCEPTION 'invalid JSON for a pdist: %', j
			USING ERRCODE = 'invalid_text_representation',
				  HINT = 'Use a number, a string, an object of label probabilities or an array of outcomes.';
	END CASE;
END
$$;
COMMENT ON FUNCTION ttpdb.pdist_from_jsonb(jsonb) IS 'A pdist from its JSON form (see pdist_to_jsonb)';

CREATE CAST (ttpdb.pdist AS jsonb) WITH FUNCTION ttpdb.pdist_to_jsonb(ttpdb.pdist);
CREATE CAST (jsonb AS ttpdb.pdist) WITH FUNCTION ttpdb.pdist_from_jsonb(jsonb);

--------------------------------------------------------------------------
-- The ttpdb table access method: every row keeps every state
--------------------------------------------------------------------------

-- Transaction ids mean something only in the cluster that assigned them.
-- The era names that "life" of this database: created with the extension
-- and not dumped, so a restored database starts a new era (and its new
-- xids cannot be confused with the dumped ones), while pg_upgrade, which
-- keeps xids, keeps it.
CREATE TABLE ttpdb.era (era bigint NOT NULL) USING heap;
CREATE UNIQUE INDEX era_single_row ON ttpdb.era ((true));
INSERT INTO ttpdb.era VALUES (floor(random() * 9.0e18)::bigint);
COMMENT ON TABLE ttpdb.era IS
	'Identifies this database''s transaction ids (a new era starts when a dump is restored)';
GRANT SELECT ON ttpdb.era TO PUBLIC;

-- System time: the commit stamp of every transaction that wrote a ttpdb
-- table, in commit order.  Written by the access method at commit.
CREATE TABLE ttpdb.commit_times (
	era bigint NOT NULL,
	xid xid8 NOT NULL,
	committed_at timestamptz NOT NULL,
	PRIMARY KEY (era, xid)
) USING heap;
CREATE INDEX commit_times_committed_at_idx ON ttpdb.commit_times (committed_at);
COMMENT ON TABLE ttpdb.commit_times IS
	'Commit stamp (system time, in commit order) of each transaction that wrote a ttpdb table';
GRANT SELECT ON ttpdb.commit_times TO PUBLIC;

-- The temporal store: every version a write superseded, LZ4-compressed.
-- Read through the tables themselves (ttpdb.as_of, ttpdb.history()), which
-- check the tables' own privileges; not readable directly.
CREATE TABLE ttpdb.history (
	relid regclass NOT NULL,
	era bigint NOT NULL,
	row_hash bigint,
	created_xid xid8,
	ended_xid xid8 NOT NULL,
	valid_from timestamptz,
	raw_size integer NOT NULL,
	data bytea NOT NULL
) USING heap;
ALTER TABLE ttpdb.history ALTER COLUMN data SET STORAGE EXTERNAL;	-- already compressed
CREATE INDEX history_relid_idx ON ttpdb.history (relid);
COMMENT ON TABLE ttpdb.history IS
	'Superseded row versions of ttpdb tables (the temporal store); read them with ttpdb.history() or ttpdb.as_of';
REVOKE ALL ON ttpdb.history FROM PUBLIC;

-- pg_dump keeps the history and the stamps.
SELECT pg_catalog.pg_extension_config_dump('ttpdb.commit_times', '');
SELECT pg_catalog.pg_extension_config_dump('ttpdb.history', '');

CREATE FUNCTION ttpdb.ttpdb_tam_handler(internal) RETURNS table_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.ttpdb_tam_handler(internal) IS 'Handler of the ttpdb table access method';
CREATE ACCESS METHOD ttpdb TYPE TABLE HANDLER ttpdb.ttpdb_tam_handler;
COMMENT ON ACCESS METHOD ttpdb IS
	'Heap tables that keep every superseded row version, readable as of any past time';

CREATE FUNCTION ttpdb.as_of(anyelement, at timestamptz) RETURNS SETOF anyelement
	AS 'MODULE_PATHNAME', 'ttpdb_as_of_rows' LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.as_of(anyelement, timestamptz) IS
	'The rows of a ttpdb table as of a time: ttpdb.as_of(NULL::my_table, ''2024-01-15 12:00'')';

CREATE FUNCTION ttpdb.history(anyelement,
	OUT valid_from timestamptz, OUT valid_to timestamptz,
	OUT created_xid xid8, OUT ended_xid xid8, OUT version anyelement)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'ttpdb_history_rows' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.history(anyelement) IS
	'Every version of a ttpdb table with its system validity (valid_to NULL for the present): ttpdb.history(NULL::my_table)';

CREATE FUNCTION ttpdb.prune_history(tbl regclass, older_than timestamptz) RETURNS bigint
	AS 'MODULE_PATHNAME', 'ttpdb_prune_history' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.prune_history(regclass, timestamptz) IS
	'Delete the kept versions of a ttpdb table that ended before a time; returns how many (owner only)';

CREATE VIEW ttpdb.history_stats AS
SELECT h.relid AS table_name,
	count(*) AS versions,
	sum(pg_column_size(h.data)) AS stored_bytes,
	sum(h.raw_size) AS raw_bytes,
	round(sum(pg_column_size(h.data))::numeric / count(*), 1) AS bytes_per_version,
	round(sum(h.raw_size)::numeric / nullif(sum(pg_column_size(h.data)), 0), 2) AS compression_ratio
FROM ttpdb.history h
GROUP BY h.relid;
COMMENT ON VIEW ttpdb.history_stats IS
	'Per ttpdb table: kept versions, their stored and uncompressed bytes, and the compression ratio';
GRANT SELECT ON ttpdb.history_stats TO PUBLIC;

-- ALTER TABLE rewrites write every row again, as new versions.  So a
-- rewrite of a ttpdb table first keeps its present rows, ended by the ALTER
-- (a heap table being converted to ttpdb too: its rows are then valid since
-- before tracking began).  Except a column type change: kept versions are
-- stored as the tuples they were, and would be unreadable under the new
-- type, so it is refused while the table has kept versions (and, without
-- any, the rows are valid from the change on).
CREATE FUNCTION ttpdb.keep_rows_before_rewrite(tbl regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'ttpdb_keep_rows_before_rewrite' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.keep_rows_before_rewrite(regclass) IS
	'Called by the table_rewrite event trigger: keeps a table''s rows before ALTER TABLE rewrites it';
REVOKE ALL ON FUNCTION ttpdb.keep_rows_before_rewrite(regclass) FROM PUBLIC;

CREATE FUNCTION ttpdb.guard_table_rewrite() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel oid := pg_event_trigger_table_rewrite_oid();
	reason int := pg_event_trigger_table_rewrite_reason();
	am name := (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = rel);
BEGIN
	IF (reason & 4) <> 0 THEN		-- AT_REWRITE_COLUMN_REWRITE
		IF am = 'ttpdb' AND EXISTS (SELECT 1 FROM ttpdb.history h WHERE h.relid = rel) THEN
			RAISE EXCEPTION 'cannot change the type of a column of ttpdb table % while it has kept versions',
				rel::regclass
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'Kept versions are stored with the old type and could not be read under the new one.',
					  HINT = 'Add a column of the new type and copy the values into it, or drop the history first with ttpdb.prune_history().';
		END IF;
	ELSIF am = 'ttpdb' OR (reason & 8) <> 0 THEN	-- AT_REWRITE_ACCESS_METHOD
		PERFORM ttpdb.keep_rows_before_rewrite(rel);
	END IF;
END
$$;
COMMENT ON FUNCTION ttpdb.guard_table_rewrite() IS
	'Event trigger: keeps a ttpdb table''s rows before a rewrite, and refuses column type changes that would make kept versions unreadable';
CREATE EVENT TRIGGER ttpdb_guard_table_rewrite ON table_rewrite
	EXECUTE FUNCTION ttpdb.guard_table_rewrite();
COMMENT ON EVENT TRIGGER ttpdb_guard_table_rewrite IS
	'Keeps the rows of ttpdb tables before rewrites, refuses column type changes of tables with kept versions';

-- A dropped table's kept versions go with it (its OID may be reused by an
-- unrelated table, which must not read them).
CREATE FUNCTION ttpdb.forget_dropped_tables() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF to_regclass('ttpdb.history') IS NULL THEN
		RETURN;				-- the extension itself is being dropped
	END IF;
	DELETE FROM ttpdb.history h
	USING pg_event_trigger_dropped_objects() d
	WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND h.relid = d.objid;
END
$$;
COMMENT ON FUNCTION ttpdb.forget_dropped_tables() IS
	'Event trigger: deletes the kept versions of dropped tables';
CREATE EVENT TRIGGER ttpdb_forget_dropped_tables ON sql_drop
	EXECUTE FUNCTION ttpdb.forget_dropped_tables();
COMMENT ON EVENT TRIGGER ttpdb_forget_dropped_tables IS
	'Deletes the kept versions of dropped tables';
