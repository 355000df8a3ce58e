/*-------------------------------------------------------------------------
 *
 * core_selftest.c
 *	  Self-test of the server-independent pdist core, with known answers.
 *
 * Built with plain gcc by "make -C test/fuzz unit"; every core function is
 * called at least once and its result compared with a value worked out by
 * hand or taken from standard tables.  Prints each failure and exits
 * non-zero if there was any.
 *
 * test/fuzz/core_selftest.c
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdist.h"

static int	failures = 0;
static int	checks = 0;

void *
pdist_alloc(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

void
pdist_free(void *ptr)
{
	free(ptr);
}

void
pdist_check_interrupts(void)
{
}

static void
check(int ok, const char *what, int line)
{
	checks++;
	if (!ok)
	{
		failures++;
		fprintf(stderr, "FAILED (line %d): %s\n", line, what);
	}
}

#define CHECK(cond) check((cond) ? 1 : 0, #cond, __LINE__)

static void
check_near(double got, double want, double tol, const char *what, int line)
{
	char		buf[512];
	int			ok = (got == want) || fabs(got - want) <= tol;

	snprintf(buf, sizeof(buf), "%s: got %.17g, want %.17g (tol %g)",
			 what, got, want, tol);
	check(ok, buf, line);
}

#define NEAR(got, want, tol) check_near((got), (want), (tol), #got, __LINE__)

static Pdist
parse(const char *text, int line)
{
	Pdist		d;
	PdistError	err;

	memset(&err, 0, sizeof(err));
	if (!pdist_parse(text, &d, &err))
	{
		char		buf[512];

		snprintf(buf, sizeof(buf), "parse \"%s\": %s (%s)", text,
				 err.message, err.detail);
		check(0, buf, line);
		pdist_make_point(&d, 0.0);
	}
	return d;
}

#define PARSE(text) parse((text), __LINE__)

static void
parse_fails(const char *text, PdistStatus status, const char *message,
			const char *detail, int line)
{
	Pdist		d;
	PdistError	err;
	char		buf[768];

	memset(&err, 0, sizeof(err));
	if (pdist_parse(text, &d, &err))
	{
		snprintf(buf, sizeof(buf), "parse \"%s\" should fail", text);
		check(0, buf, line);
		return;
	}
	snprintf(buf, sizeof(buf),
			 "parse \"%s\": got status %d \"%s\" detail \"%s\", want %d \"%s\" \"%s\"",
			 text, (int) err.status, err.message, err.detail, (int) status,
			 message, detail ? detail : "");
	check(err.status == status && strcmp(err.message, message) == 0 &&
		  (detail == NULL || strcmp(err.detail, detail) == 0), buf, line);
}

#define PARSE_FAILS(text, status, message, detail) \
	parse_fails((text), (status), (message), (detail), __LINE__)

/* flatten, validate and read back; returns whether it round-trips */
static int
round_trips(const Pdist *d)
{
	size_t		size = pdist_flat_size(d);
	PdistFlat  *flat = pdist_alloc(size);
	PdistError	err;
	Pdist		back;
	int			ok;

	pdist_flatten(d, flat);
	if (!pdist_check_flat(flat, size, &err))
	{
		fprintf(stderr, "check_flat: %s: %s\n", err.message, err.detail);
		return 0;
	}
	pdist_from_flat(flat, &back);
	ok = pdist_compare(d, &back) == 0;
	return ok;
}

static int
same(const char *a, const char *b)
{
	Pdist		da = parse(a, __LINE__);
	Pdist		db = parse(b, __LINE__);

	return pdist_compare(&da, &db) == 0;
}

static void
test_parse(void)
{
	Pdist		d;
	char		buf[2048];
	int			i;

	d = PARSE("{1: 0.5, 3: 0.5}");
	CHECK(d.kind == PDIST_NUMERIC && d.n == 2 && d.sigma == NULL);
	CHECK(d.value[0] == 1.0 && d.value[1] == 3.0);
	CHECK(d.prob[0] == 0.5 && d.prob[1] == 0.5);

	d = PARSE("  42 ");
	CHECK(d.n == 1 && d.value[0] == 42.0 && d.prob[0] == 1.0);
	d = PARSE("-0");
	CHECK(d.n == 1 && d.value[0] == 0.0 && !signbit(d.value[0]));
	d = PARSE(".5");
	CHECK(d.value[0] == 0.5);
	d = PARSE("5.");
	CHECK(d.value[0] == 5.0);
	d = PARSE("+1.5e2");
	CHECK(d.value[0] == 150.0);
	d = PARSE("1e-400");		/* underflows to 0, which is fine */
	CHECK(d.value[0] == 0.0);

	d = PARSE("NORMAL ( 10 , 2 )");
	CHECK(d.n == 1 && d.sigma != NULL && d.value[0] == 10 && d.sigma[0] == 2);
	d = PARSE("normal(3, 0)");
	CHECK(d.n == 1 && d.sigma == NULL && d.value[0] == 3);

	/* sorting, merging, dropping zeros, renormalising */
	d = PARSE("{3: 0.25, 1: 0.25, 3: 0.25, 2: 0, 1: 0.2500001}");
	CHECK(d.n == 2 && d.value[0] == 1 && d.value[1] == 3);
	NEAR(d.prob[0] + d.prob[1], 1.0, 1e-15);
	CHECK(same("{2: 0.5, 1: 0.5}", "{1: 0.5, 2: 0.5}"));
	CHECK(same("{1: 0.5, 1: 0.5}", "1"));
	CHECK(same("{normal(0,1): 0.5, 1: 0.5}", "{1: 0.5, normal(0, 1): 0.5}"));

	d = PARSE("{\"b\": 0.5, \"a\": 0.25, \"ab\": 0.25}");
	CHECK(d.kind == PDIST_CATEGORICAL && d.n == 3);
	CHECK(d.label_len[0] == 1 && d.label[0][0] == 'a');
	CHECK(d.label_len[1] == 2 && memcmp(d.label[1], "ab", 2) == 0);
	CHECK(d.label_len[2] == 1 && d.label[2][0] == 'b');
	d = PARSE("\"q\\\"\\\\\"");
	CHECK(d.n == 1 && d.label_len[0] == 3 && memcmp(d.label[0], "q\"\\", 3) == 0);
	d = PARSE("\"\"");
	CHECK(d.n == 1 && d.label_len[0] == 0);
	/* bytes compare unsigned: 0xC3 sorts after 'z' */
	d = PARSE("{\"\xC3\xA9\": 0.5, \"z\": 0.5}");
	CHECK(d.label[0][0] == 'z');

	/* errors */
	PARSE_FAILS("", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"\"",
				"Expected a number, a quoted label, normal(...) or \"{\" at position 1.");
	PARSE_FAILS("   ", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"   \"", NULL);
	PARSE_FAILS("{1: 0.5 2: 0.5}", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"{1: 0.5 2: 0.5}\"",
				"Expected \",\" or \"}\" at position 9.");
	PARSE_FAILS("{1 0.5}", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"{1 0.5}\"",
				"Expected \":\" after an outcome at position 4.");
	PARSE_FAILS("{}", PDIST_ERR_OUTCOME,
				"a pdist must have at least one outcome", NULL);
	PARSE_FAILS("{ }", PDIST_ERR_OUTCOME,
				"a pdist must have at least one outcome", NULL);
	PARSE_FAILS("{1: 0.5, 2: 0.4}", PDIST_ERR_PROBABILITY,
				"probabilities of a pdist must sum to 1", "They sum to 0.9.");
	PARSE_FAILS("{1: 0, 2: 0}", PDIST_ERR_PROBABILITY,
				"probabilities of a pdist must sum to 1", "They sum to 0.");
	PARSE_FAILS("inf", PDIST_ERR_OUTCOME, "pdist outcome must be finite", NULL);
	PARSE_FAILS("-Infinity", PDIST_ERR_OUTCOME,
				"pdist outcome must be finite", NULL);
	PARSE_FAILS("{NaN: 1}", PDIST_ERR_OUTCOME,
				"pdist outcome must be finite", NULL);
	PARSE_FAILS("1e999", PDIST_ERR_OUTCOME,
				"pdist outcome must be finite", NULL);
	PARSE_FAILS("{1: nan}", PDIST_ERR_PROBABILITY,
				"probability of a pdist outcome must be finite and not negative",
				NULL);
	PARSE_FAILS("{1: 1e400}", PDIST_ERR_PROBABILITY,
				"probability of a pdist outcome must be finite and not negative",
				NULL);
	PARSE_FAILS("{1: -0.5, 2: 1.5}", PDIST_ERR_PROBABILITY,
				"probability of a pdist outcome must be finite and not negative",
				NULL);
	PARSE_FAILS("normal(0, -1)", PDIST_ERR_OUTCOME,
				"standard deviation of a normal must be finite and not negative",
				NULL);
	PARSE_FAILS("normal(0, inf)", PDIST_ERR_OUTCOME,
				"standard deviation of a normal must be finite and not negative",
				NULL);
	PARSE_FAILS("normal(inf, 1)", PDIST_ERR_OUTCOME,
				"pdist outcome must be finite", NULL);
	PARSE_FAILS("{1: 0.5, \"a\": 0.5}", PDIST_ERR_KIND,
				"cannot mix numeric and categorical outcomes in one pdist", NULL);
	PARSE_FAILS("0x10", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"0x10\"",
				"Invalid number at position 1; only decimal numbers are accepted.");
	PARSE_FAILS("0x", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"0x\"",
				"Expected end of input at position 2.");
	PARSE_FAILS("1e", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"1e\"",
				"Expected digits in the exponent at position 3.");
	PARSE_FAILS("\"abc", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"\"abc\"",
				"Unterminated quoted label starting at position 1.");
	PARSE_FAILS("\"a\\n\"", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"\"a\\n\"\"", NULL);
	PARSE_FAILS("{1: 1,}", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"{1: 1,}\"",
				"Expected an outcome at position 7.");
	PARSE_FAILS("normal(1 2)", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"normal(1 2)\"", NULL);
	PARSE_FAILS("normalx", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"normalx\"", NULL);
	PARSE_FAILS("1 2", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"1 2\"",
				"Expected end of input at position 3.");
	PARSE_FAILS(".", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \".\"", NULL);
	PARSE_FAILS("-", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"-\"", NULL);
	PARSE_FAILS("{1: .}", PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"{1: .}\"",
				"Expected a probability at position 5.");

	/* long input is quoted truncated */
	memset(buf, 'x', 100);
	buf[100] = '\0';
	PARSE_FAILS(buf, PDIST_ERR_SYNTAX,
				"invalid input syntax for type pdist: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"",
				NULL);

	/* label length limit */
	buf[0] = '"';
	memset(buf + 1, 'a', 1024);
	buf[1025] = '"';
	buf[1026] = '\0';
	d = PARSE(buf);
	CHECK(d.n == 1 && d.label_len[0] == 1024);
	buf[1025] = 'a';
	buf[1026] = '"';
	buf[1027] = '\0';
	PARSE_FAILS(buf, PDIST_ERR_OUTCOME, "pdist label exceeds 1024 bytes", NULL);

	/* outcome limit, counted before merging */
	{
		size_t		cap = 10001 * 16 + 16;
		char	   *big = pdist_alloc(cap);
		size_t		len = 0;

		big[len++] = '{';
		for (i = 0; i < 10001; i++)
			len += (size_t) snprintf(big + len, cap - len, "%s1:0", i ? "," : "");
		big[len++] = '}';
		big[len] = '\0';
		PARSE_FAILS(big, PDIST_ERR_LIMIT,
					"a pdist can have at most 10000 outcomes", NULL);
		/* 10000 is fine */
		len = 0;
		big[len++] = '{';
		for (i = 0; i < 10000; i++)
			len += (size_t) snprintf(big + len, cap - len, "%s%d:1e-4", i ? "," : "", i);
		big[len++] = '}';
		big[len] = '\0';
		d = PARSE(big);
		CHECK(d.n == 10000);
		CHECK(round_trips(&d));
		pdist_free(big);
	}
}

static void
test_canon(void)
{
	Pdist		d;
	Pdist		e;
	PdistError	err;
	PdistFlat  *flat;
	size_t		size;
	double		x;
	int			i;

	/* init, make_point, canonicalize of a hand-built value */
	pdist_init(&d, PDIST_NUMERIC, 4, true);
	d.value[0] = 2;
	d.sigma[0] = 0;
	d.prob[0] = 0.25;
	d.value[1] = -0.0;
	d.sigma[1] = 0;
	d.prob[1] = 0.25;
	d.value[2] = 2;
	d.sigma[2] = 0;
	d.prob[2] = 0.25;
	d.value[3] = 0;
	d.sigma[3] = -0.0;
	d.prob[3] = 0.25;
	CHECK(pdist_canonicalize(&d, &err));
	CHECK(d.n == 2 && d.sigma == NULL && d.value[0] == 0 && !signbit(d.value[0]));
	CHECK(d.prob[0] == 0.5 && d.value[1] == 2);

	pdist_make_point(&e, 7);
	CHECK(e.n == 1 && e.value[0] == 7 && e.prob[0] == 1 && e.sigma == NULL);
	CHECK(!pdist_is_continuous(&e));

	pdist_init(&d, PDIST_NUMERIC, 0, false);
	CHECK(!pdist_canonicalize(&d, &err));
	CHECK(strcmp(err.message, "a pdist must have at least one outcome") == 0);

	pdist_init(&d, PDIST_NUMERIC, 1, false);
	d.value[0] = NAN;
	d.prob[0] = 1;
	CHECK(!pdist_canonicalize(&d, &err) && err.status == PDIST_ERR_OUTCOME);

	/* copy, and canonicalising large intermediates with a cap */
	d = PARSE("{normal(1, 2): 0.5, 3: 0.5}");
	pdist_copy(&d, &e);
	CHECK(pdist_compare(&d, &e) == 0 && e.prob != d.prob && e.sigma != d.sigma);
	CHECK(pdist_canonicalize(&e, &err) && pdist_compare(&d, &e) == 0);
	pdist_init(&d, PDIST_NUMERIC, 20000, false);
	for (i = 0; i < 20000; i++)
	{
		d.value[i] = i % 15000;
		d.prob[i] = 1.0 / 20000;
	}
	CHECK(!pdist_canonicalize(&d, &err) && err.status == PDIST_ERR_LIMIT);
	for (i = 0; i < 20000; i++)
	{
		d.value[i] = i % 15000;
		d.prob[i] = 1.0 / 20000;
	}
	CHECK(pdist_canonicalize_capped(&d, 100, &err));
	CHECK(d.n == 100 && d.sigma == NULL);
	/* (0 + ... + 14999 + 0 + ... + 4999) / 20000, kept by the cap */
	NEAR(pdist_mean(&d), 6249.5, 1e-8);
	pdist_init(&d, PDIST_CATEGORICAL, 3, false);
	d.label[0] = "b";
	d.label_len[0] = 1;
	d.label[1] = "a";
	d.label_len[1] = 1;
	d.label[2] = "b";
	d.label_len[2] = 1;
	d.prob[0] = d.prob[1] = d.prob[2] = 1.0 / 3;
	CHECK(pdist_canonicalize_capped(&d, 1, &err) && d.n == 2 && d.label[0][0] == 'a');

	/* flat layout */
	d = PARSE("{normal(1, 2): 0.5, 3: 0.5}");
	CHECK(pdist_is_continuous(&d));
	size = pdist_flat_size(&d);
	CHECK(size == 16 + 2 * 3 * 8);
	flat = pdist_alloc(size);
	pdist_flatten(&d, flat);
	CHECK(flat->version == 1 && flat->kind == PDIST_NUMERIC &&
		  flat->flags == PDIST_FLAG_SIGMA && flat->n == 2 && flat->reserved == 0);
	CHECK(pdist_check_flat(flat, size, &err));
	CHECK(!pdist_check_flat(flat, size - 1, &err) && err.status == PDIST_ERR_CORRUPT);
	CHECK(!pdist_check_flat(flat, 3, &err));
	pdist_from_flat(flat, &e);
	CHECK(pdist_compare(&d, &e) == 0);
	/* break the order */
	memcpy(&x, (char *) flat + 16 + 16, 8);
	x = 5;
	memcpy((char *) flat + 16 + 16, &x, 8);
	CHECK(!pdist_check_flat(flat, size, &err));
	/* negative zero is not canonical */
	pdist_flatten(&d, flat);
	x = -0.0;
	memcpy((char *) flat + 16 + 16, &x, 8);
	CHECK(!pdist_check_flat(flat, size, &err));
	/* flags and reserved */
	pdist_flatten(&d, flat);
	flat->reserved = 1;
	CHECK(!pdist_check_flat(flat, size, &err));
	pdist_flatten(&d, flat);
	flat->flags = 3;
	CHECK(!pdist_check_flat(flat, size, &err));
	pdist_flatten(&d, flat);
	x = 0.4;
	memcpy((char *) flat + 16, &x, 8);
	CHECK(!pdist_check_flat(flat, size, &err));
	pdist_free(flat);

	d = PARSE("{\"x\": 0.5, \"yy\": 0.5}");
	size = pdist_flat_size(&d);
	CHECK(size == 16 + 2 * 12 + 3);
	flat = pdist_alloc(size);
	pdist_flatten(&d, flat);
	CHECK(pdist_check_flat(flat, size, &err));
	pdist_from_flat(flat, &e);
	CHECK(pdist_compare(&d, &e) == 0 && e.label_len[1] == 2);
	/* labels out of order */
	((char *) flat)[16 + 24] = 'z';
	CHECK(!pdist_check_flat(flat, size, &err));
	pdist_free(flat);

	/* ordering */
	CHECK(pdist_compare(&d, &d) == 0);
	{
		Pdist		one = PARSE("1");
		Pdist		two = PARSE("2");
		Pdist		cat = PARSE("\"a\"");
		Pdist		cat2 = PARSE("\"b\"");
		Pdist		n01 = PARSE("normal(0, 1)");
		Pdist		n02 = PARSE("normal(0, 2)");
		Pdist		mix = PARSE("{-1: 0.5, 1: 0.5}");

		CHECK(pdist_compare(&one, &two) < 0 && pdist_compare(&two, &one) > 0);
		CHECK(pdist_compare(&two, &cat) < 0 && pdist_compare(&cat, &one) > 0);
		CHECK(pdist_compare(&cat, &cat2) < 0);
		CHECK(pdist_compare(&n01, &n02) < 0);
		CHECK(pdist_compare(&n01, &mix) < 0);	/* same mean, fewer components */
		CHECK(pdist_compare(&one, &n01) > 0);
	}
}

static void
test_math(void)
{
	Pdist		d;
	Pdist		e;
	PdistError	err;
	double		h;
	double		draws[2000];
	int			idx[2000];
	double		mean;
	int			i;
	char	   *hist;

	d = PARSE("{1: 0.5, 3: 0.5}");
	CHECK(pdist_mean(&d) == 2.0);
	CHECK(pdist_variance(&d) == 1.0);
	CHECK(pdist_prob_point(&d, 3) == 0.5 && pdist_prob_point(&d, 2) == 0);
	CHECK(pdist_cdf(&d, 1) == 0.5 && pdist_cdf(&d, 0.9) == 0 && pdist_cdf(&d, 3) == 1);
	CHECK(pdist_cdf_below(&d, 1) == 0 && pdist_cdf_below(&d, 3) == 0.5);
	CHECK(pdist_prob_above(&d, 1) == 0.5 && pdist_prob_above(&d, 3) == 0);
	CHECK(pdist_prob_at_or_above(&d, 1) == 1 && pdist_prob_at_or_above(&d, 3) == 0.5);
	CHECK(pdist_quantile(&d, 0) == 1 && pdist_quantile(&d, 0.5) == 1);
	CHECK(pdist_quantile(&d, 0.5000001) == 3 && pdist_quantile(&d, 1) == 3);
	CHECK(pdist_mode_index(&d) == 0 && pdist_mode_value(&d) == 1);

	d = PARSE("normal(10, 2)");
	CHECK(pdist_mean(&d) == 10 && pdist_variance(&d) == 4);
	NEAR(pdist_cdf(&d, 10), 0.5, 1e-15);
	NEAR(pdist_cdf(&d, 12), 0.8413447460685429, 1e-15);
	NEAR(pdist_quantile(&d, 0.975), 10 + 2 * 1.959963984540054, 1e-13);
	CHECK(pdist_quantile(&d, 0) == -INFINITY && pdist_quantile(&d, 1) == INFINITY);
	CHECK(pdist_prob_point(&d, 10) == 0);
	CHECK(pdist_mode_value(&d) == 10);

	/* means near the top of the double range do not overflow */
	d = PARSE("{1.7e308: 0.5, 1.6e308: 0.5}");
	NEAR(pdist_mean(&d), 1.65e308, 1e293);
	d = PARSE("{-1.7e308: 0.5, 1.7e308: 0.5}");
	CHECK(pdist_mean(&d) == 0 && isinf(pdist_variance(&d)));
	d = PARSE("{1e300: 0.5, 1: 0.5}");
	NEAR(pdist_prob_above(&d, 2), 0.5, 0);

	/* mixture with a point mass: cdf jumps, quantile finds the point */
	d = PARSE("{normal(0, 1): 0.5, 5: 0.5}");
	NEAR(pdist_mean(&d), 2.5, 1e-15);
	NEAR(pdist_variance(&d), 0.5 * 1 + 0.5 * 6.25 + 0.5 * 6.25, 1e-13);
	NEAR(pdist_cdf(&d, 5), 0.5 + 0.25 * erfc(-5 / sqrt(2.0)), 1e-15);
	NEAR(pdist_cdf_below(&d, 5), 0.25 * erfc(-5 / sqrt(2.0)), 1e-15);
	CHECK(pdist_prob_point(&d, 5) == 0.5);
	CHECK(pdist_quantile(&d, 0.75) == 5);
	CHECK(pdist_quantile(&d, 0.999) == 5);
	NEAR(pdist_quantile(&d, 0.25), 0.0, 1e-12);
	NEAR(pdist_quantile(&d, 0.4875), 1.959963984540054, 1e-9);
	CHECK(pdist_mode_value(&d) == 5);

	d = PARSE("{normal(0, 1): 0.3, normal(10, 1): 0.7}");
	CHECK(pdist_mode_value(&d) == 10);
	NEAR(pdist_quantile(&d, 0.15), 0.0, 1e-9);

	/* normal and t quantiles */
	NEAR(pdist_normal_quantile(0.975), 1.959963984540054, 1e-15);
	NEAR(pdist_normal_quantile(0.5), 0.0, 0);
	NEAR(pdist_normal_quantile(0.025), -1.959963984540054, 1e-15);
	NEAR(pdist_normal_quantile(1e-10), -6.361340902404056, 1e-13);
	NEAR(pdist_normal_quantile(1 - 1e-10), 6.361340889697422, 1e-9);
	NEAR(pdist_normal_quantile(1e-300), -37.047096299361199, 1e-11);
	CHECK(pdist_normal_quantile(0) == -INFINITY && pdist_normal_quantile(1) == INFINITY);
	NEAR(pdist_student_t_quantile(0.975, 1), 12.706204736174705, 1e-10);
	NEAR(pdist_student_t_quantile(0.975, 2), 4.3026527297494639, 1e-12);
	NEAR(pdist_student_t_quantile(0.975, 3), 3.1824463052837096, 1e-11);
	NEAR(pdist_student_t_quantile(0.975, 10), 2.2281388519862747, 1e-11);
	NEAR(pdist_student_t_quantile(0.975, 30), 2.0422724563012383, 1e-11);
	NEAR(pdist_student_t_quantile(0.995, 5), 4.0321429835552281, 1e-10);
	NEAR(pdist_student_t_quantile(0.9, 2.5), 1.7302509288071766, 1e-11);
	NEAR(pdist_student_t_quantile(0.6, 10), 0.26018482949208024, 1e-13);
	NEAR(pdist_student_t_quantile(0.025, 10), -2.2281388519862747, 1e-11);
	NEAR(pdist_student_t_quantile(0.975, 1e6), 1.959966356814107, 1e-11);
	NEAR(pdist_student_t_quantile(0.975, 1e12), 1.959963984540054, 1e-10);
	NEAR(pdist_student_t_quantile(1e-10, 4), -416.17514032960412, 1e-8);
	CHECK(pdist_student_t_quantile(0.5, 7) == 0);

	/* entropy */
	d = PARSE("{1: 0.5, 3: 0.5}");
	CHECK(pdist_entropy(&d, 2, &h, &err));
	NEAR(h, 1.0, 1e-15);
	d = PARSE("{\"a\": 0.25, \"b\": 0.25, \"c\": 0.5}");
	CHECK(pdist_entropy(&d, 2, &h, &err));
	NEAR(h, 1.5, 1e-15);
	d = PARSE("7");
	CHECK(pdist_entropy(&d, 10, &h, &err) && h == 0 && !signbit(h));
	CHECK(pdist_entropy(&d, 0.5, &h, &err) && h == 0 && !signbit(h));
	d = PARSE("normal(0, 1)");
	CHECK(pdist_entropy(&d, exp(1.0), &h, &err));
	NEAR(h, 1.4189385332046727, 1e-14);
	d = PARSE("{normal(0, 1): 0.5, normal(100, 1): 0.5}");
	CHECK(pdist_entropy(&d, exp(1.0), &h, &err));
	NEAR(h, 2.1120857137646181, 1e-7);
	/* two identical-shape normals far apart at very different scales */
	d = PARSE("{normal(0, 1e-6): 0.5, normal(1, 1e6): 0.5}");
	CHECK(pdist_entropy(&d, exp(1.0), &h, &err));
	NEAR(h, 2.112085713706883, 1e-6);
	/* scales 1e400 apart: the narrow tail must not swamp the wide gaps */
	d = PARSE("{normal(0, 1e-200): 0.5, normal(1, 1e200): 0.5}");
	CHECK(pdist_entropy(&d, exp(1.0), &h, &err));
	NEAR(h, 2.1120857137646181, 1e-9);
	d = PARSE("{normal(0, 1): 0.2, normal(0.5, 0.01): 0.3, normal(3, 5): 0.5}");
	CHECK(pdist_entropy(&d, exp(1.0), &h, &err));
	NEAR(h, 1.60903189481, 1e-8);
	d = PARSE("{normal(0, 1): 0.5, normal(0, 2): 0.5}");
	CHECK(pdist_entropy(&d, exp(1.0), &h, &err));
	NEAR(h, 1.8582455051510579, 1e-7);
	d = PARSE("{normal(0, 1): 0.5, normal(1, 1): 0.5}");
	CHECK(pdist_entropy(&d, exp(1.0), &h, &err));
	NEAR(h, 1.5303600153894089, 1e-7);
	d = PARSE("{normal(0, 1): 0.5, 5: 0.5}");
	CHECK(!pdist_entropy(&d, 2, &h, &err) && err.status == PDIST_ERR_KIND);
	CHECK(!pdist_entropy(&d, 1, &h, &err) && err.status == PDIST_ERR_ARGUMENT);
	CHECK(!pdist_entropy(&d, -2, &h, &err) && err.status == PDIST_ERR_ARGUMENT);

	/* mode of categorical, ties to the first */
	d = PARSE("{\"b\": 0.4, \"a\": 0.4, \"c\": 0.2}");
	CHECK(pdist_mode_index(&d) == 0 && d.label[0][0] == 'a');
	NEAR(pdist_prob_label(&d, "c", 1), 0.2, 1e-16);
	CHECK(pdist_prob_label(&d, "d", 1) == 0 && pdist_prob_label(&d, "", 0) == 0);

	/* collapse and top_k */
	d = PARSE("{1: 0.5, 2: 0.3, 3: 0.15, 4: 0.05}");
	pdist_collapse(&d, 0.8, &e);
	CHECK(e.n == 2 && e.value[0] == 1 && e.value[1] == 2);
	NEAR(e.prob[0], 0.625, 1e-15);
	CHECK(round_trips(&e));
	pdist_collapse(&d, 1.0, &e);
	CHECK(e.n == 4);
	pdist_top_k(&d, 3, &e);
	CHECK(e.n == 3 && e.value[2] == 3);
	NEAR(e.prob[2], 0.15 / 0.95, 1e-15);
	pdist_top_k(&d, 100, &e);
	CHECK(e.n == 4);
	d = PARSE("{\"x\": 0.25, \"y\": 0.25, \"z\": 0.5}");
	pdist_top_k(&d, 2, &e);
	CHECK(e.n == 2 && e.label[0][0] == 'x' && e.label[1][0] == 'z');
	d = PARSE("normal(0, 1)");
	pdist_collapse(&d, 0.5, &e);
	CHECK(e.n >= 2 && e.sigma == NULL && round_trips(&e));

	/* discretize keeps the mean and nearly the variance */
	d = PARSE("{normal(3, 2): 0.5, 10: 0.5}");
	pdist_discretize(&d, 64, &e);
	CHECK(e.n == 65 && e.sigma == NULL && round_trips(&e));
	NEAR(pdist_mean(&e), 6.5, 1e-12);
	NEAR(pdist_variance(&e), pdist_variance(&d), 0.02);
	pdist_discretize(&e, 10, &d);
	CHECK(d.n == 65);
	d = PARSE("normal(0, 1)");
	pdist_discretize(&d, 2, &e);
	CHECK(e.n == 2);
	NEAR(e.value[1], sqrt(2 / acos(-1.0)), 1e-12);	/* half-normal mean */

	/* cap_support */
	pdist_init(&d, PDIST_NUMERIC, 100, false);
	for (i = 0; i < 100; i++)
	{
		d.value[i] = i;
		d.prob[i] = 0.01;
	}
	CHECK(pdist_canonicalize(&d, &err));
	pdist_cap_support(&d, 10);
	CHECK(d.n == 10 && d.sigma == NULL && round_trips(&d));
	NEAR(pdist_mean(&d), 49.5, 1e-12);
	NEAR(d.value[0], 4.5, 1e-12);
	d = PARSE("{normal(0, 1): 0.25, normal(1, 1): 0.25, normal(10, 1): 0.25, 11: 0.25}");
	mean = pdist_mean(&d);
	h = pdist_variance(&d);
	pdist_cap_support(&d, 2);
	CHECK(d.n == 2 && d.sigma != NULL && round_trips(&d));
	NEAR(pdist_mean(&d), mean, 1e-13);
	NEAR(pdist_variance(&d), h, 1e-12);

	/* sampling: deterministic, and right on average */
	d = PARSE("{normal(5, 1): 0.5, 1: 0.5}");
	pdist_sample_values(&d, 42, 2000, draws);
	mean = 0;
	for (i = 0; i < 2000; i++)
		mean += draws[i] / 2000;
	NEAR(mean, 3.0, 0.2);
	{
		double		again[2000];

		pdist_sample_values(&d, 42, 2000, again);
		CHECK(memcmp(draws, again, sizeof(again)) == 0);
		pdist_sample_values(&d, 43, 2000, again);
		CHECK(memcmp(draws, again, sizeof(again)) != 0);
	}
	d = PARSE("{\"a\": 0.25, \"b\": 0.75}");
	pdist_sample_indexes(&d, 1, 2000, idx);
	mean = 0;
	for (i = 0; i < 2000; i++)
	{
		CHECK(idx[i] == 0 || idx[i] == 1);
		mean += idx[i] / 2000.0;
	}
	NEAR(mean, 0.75, 0.05);

	/* histogram */
	d = PARSE("{1: 0.25, 2: 0.5, 3: 0.25}");
	hist = pdist_histogram(&d, 20);
	CHECK(strcmp(hist,
				 "1 | ##########           0.250\n"
				 "2 | #################### 0.500\n"
				 "3 | ##########           0.250") == 0);
	d = PARSE("{\"long label that goes on and on and on\": 0.5, \"b\\\"\": 0.5}");
	hist = pdist_histogram(&d, 10);
	CHECK(strcmp(hist,
				 "                            b\" | ########## 0.500\n"
				 "long label that goes on and... | ########## 0.500") == 0);
	d = PARSE("normal(0, 1)");
	hist = pdist_histogram(&d, 30);
	CHECK(strstr(hist, "(-inf, -2.78") == hist + strspn(hist, " "));
	CHECK(strchr(hist, '\n') != NULL);
	pdist_init(&d, PDIST_NUMERIC, 100, false);
	for (i = 0; i < 100; i++)
	{
		d.value[i] = i;
		d.prob[i] = 0.01;
	}
	CHECK(pdist_canonicalize(&d, &err));
	hist = pdist_histogram(&d, 10);
	CHECK(strstr(hist, "[0, 2.475)") != NULL && strstr(hist, "[96.525, 99]") != NULL);
}

static void
test_arith(void)
{
	Pdist		d;
	Pdist		e;
	Pdist		f;
	PdistError	err;
	int			i;

	/* two dice */
	d = PARSE("{1: 0.1666666666666667, 2: 0.1666666666666667, 3: 0.1666666666666667,"
			  " 4: 0.1666666666666667, 5: 0.1666666666666667, 6: 0.1666666666666667}");
	CHECK(pdist_add(&d, &d, PDIST_MAX_SUPPORT, &e, &err));
	CHECK(e.n == 11 && e.value[0] == 2 && e.value[10] == 12);
	NEAR(pdist_prob_point(&e, 7), 1.0 / 6, 1e-15);
	NEAR(pdist_prob_point(&e, 2), 1.0 / 36, 1e-15);
	NEAR(pdist_mean(&e), 7.0, 1e-14);
	CHECK(round_trips(&e));
	CHECK(pdist_add(&d, &d, 5, &e, &err));
	CHECK(e.n == 5 && round_trips(&e));
	NEAR(pdist_mean(&e), 7.0, 1e-14);

	/* sum of normals */
	d = PARSE("normal(1, 3)");
	e = PARSE("normal(2, 4)");
	CHECK(pdist_add(&d, &e, PDIST_MAX_SUPPORT, &f, &err));
	CHECK(f.n == 1 && f.value[0] == 3 && f.sigma[0] == 5);
	e = PARSE("{10: 0.5, 20: 0.5}");
	CHECK(pdist_add(&d, &e, PDIST_MAX_SUPPORT, &f, &err));
	CHECK(f.n == 2 && f.value[0] == 11 && f.sigma[0] == 3 && f.value[1] == 21);

	/* products */
	d = PARSE("{2: 0.5, 3: 0.5}");
	e = PARSE("{5: 0.5, 7: 0.5}");
	CHECK(pdist_multiply(&d, &e, PDIST_MAX_SUPPORT, &f, &err));
	CHECK(f.n == 4 && f.value[0] == 10 && f.value[3] == 21);
	NEAR(pdist_mean(&f), 2.5 * 6, 1e-14);
	d = PARSE("{-2: 0.5, 0: 0.5}");
	e = PARSE("normal(1, 1)");
	CHECK(pdist_multiply(&d, &e, PDIST_MAX_SUPPORT, &f, &err));
	CHECK(f.n == 2 && f.value[0] == -2 && f.sigma[0] == 2 && f.value[1] == 0 && f.sigma[1] == 0);
	d = PARSE("normal(2, 1)");
	e = PARSE("normal(3, 1)");
	CHECK(pdist_multiply(&d, &e, PDIST_MAX_SUPPORT, &f, &err));
	NEAR(pdist_mean(&f), 6.0, 1e-12);
	/* var(XY) = s1^2 s2^2 + s1^2 m2^2 + s2^2 m1^2 = 1 + 9 + 4 */
	NEAR(pdist_variance(&f), 14.0, 0.05);
	CHECK(round_trips(&f));

	d = PARSE("{1e308: 0.5, 1: 0.5}");
	CHECK(!pdist_add(&d, &d, PDIST_MAX_SUPPORT, &f, &err) &&
		  err.status == PDIST_ERR_RANGE &&
		  strcmp(err.message, "result of pdist arithmetic is out of range") == 0);
	e = PARSE("\"a\"");
	CHECK(!pdist_add(&d, &e, PDIST_MAX_SUPPORT, &f, &err) && err.status == PDIST_ERR_KIND);
	CHECK(!pdist_multiply(&e, &d, PDIST_MAX_SUPPORT, &f, &err) && err.status == PDIST_ERR_KIND);

	/* pair limit: 3000 x 3000 components */
	pdist_init(&d, PDIST_NUMERIC, 3000, false);
	for (i = 0; i < 3000; i++)
	{
		d.value[i] = i;
		d.prob[i] = 1.0 / 3000;
	}
	CHECK(pdist_canonicalize(&d, &err));
	CHECK(pdist_add(&d, &d, PDIST_MAX_SUPPORT, &f, &err));
	CHECK(f.n <= PDIST_MAX_SUPPORT && round_trips(&f));
	NEAR(pdist_mean(&f), 2999.0, 1e-9);

	/* affine */
	d = PARSE("{normal(1, 2): 0.25, 3: 0.75}");
	pdist_affine(&d, -2, 1, &f);
	CHECK(f.n == 2 && f.value[0] == -5 && f.sigma[0] == 0 && f.value[1] == -1 && f.sigma[1] == 4);
	CHECK(round_trips(&f));
	pdist_affine(&d, 0, 4, &f);
	CHECK(f.n == 1 && f.value[0] == 4 && f.sigma == NULL);

	/* mix */
	d = PARSE("{1: 0.5, 2: 0.5}");
	e = PARSE("{2: 0.5, 3: 0.5}");
	CHECK(pdist_mix(&d, &e, 0.5, &f, &err));
	CHECK(f.n == 3 && f.prob[1] == 0.5);
	CHECK(pdist_mix(&d, &e, 1.0, &f, &err) && pdist_compare(&f, &d) == 0);
	CHECK(pdist_mix(&d, &e, 0.0, &f, &err) && pdist_compare(&f, &e) == 0);
	e = PARSE("\"a\"");
	CHECK(!pdist_mix(&d, &e, 0.5, &f, &err) && err.status == PDIST_ERR_KIND &&
		  strcmp(err.message, "cannot combine a numeric and a categorical pdist") == 0);
	d = PARSE("\"b\"");
	CHECK(pdist_mix(&d, &e, 0.25, &f, &err));
	CHECK(f.n == 2 && f.label[0][0] == 'a' && f.prob[0] == 0.75);

	/* interpolate */
	d = PARSE("normal(0, 1)");
	e = PARSE("normal(10, 3)");
	CHECK(pdist_interpolate(&d, &e, 0.25, PDIST_MAX_SUPPORT, &f, &err));
	CHECK(f.n == 1 && f.value[0] == 2.5 && f.sigma[0] == 1.5);
	CHECK(pdist_interpolate(&d, &e, 0, PDIST_MAX_SUPPORT, &f, &err) && pdist_compare(&f, &d) == 0);
	CHECK(pdist_interpolate(&d, &e, 1, PDIST_MAX_SUPPORT, &f, &err) && pdist_compare(&f, &e) == 0);
	d = PARSE("{0: 0.5, 10: 0.5}");
	e = PARSE("{100: 0.25, 200: 0.75}");
	CHECK(pdist_interpolate(&d, &e, 0.5, PDIST_MAX_SUPPORT, &f, &err));
	/* segments [0,.25]: (0,100) [.25,.5]: (0,200) [.5,1]: (10,200) */
	CHECK(f.n == 3 && f.value[0] == 50 && f.value[1] == 100 && f.value[2] == 105);
	NEAR(f.prob[2], 0.5, 1e-15);
	d = PARSE("{normal(0, 1): 0.5, 4: 0.5}");
	CHECK(pdist_interpolate(&d, &e, 0.5, PDIST_MAX_SUPPORT, &f, &err));
	NEAR(pdist_mean(&f), 0.5 * 2 + 0.5 * 175, 1e-9);
	CHECK(round_trips(&f));
	d = PARSE("\"a\"");
	e = PARSE("\"b\"");
	CHECK(pdist_interpolate(&d, &e, 0.25, PDIST_MAX_SUPPORT, &f, &err));
	CHECK(f.n == 2 && f.prob[0] == 0.75);

	/* comparisons */
	d = PARSE("{1: 0.5, 3: 0.5}");
	e = PARSE("{2: 0.5, 3: 0.5}");
	NEAR(pdist_prob_greater(&d, &e), 0.25, 1e-16);
	NEAR(pdist_prob_greater(&e, &d), 0.5, 1e-16);
	NEAR(pdist_prob_equal(&d, &e), 0.25, 1e-16);
	d = PARSE("normal(1, 3)");
	e = PARSE("normal(0, 4)");
	NEAR(pdist_prob_greater(&d, &e), 0.5792597094391030, 1e-14);	/* Phi(0.2) */
	CHECK(pdist_prob_equal(&d, &e) == 0);
	e = PARSE("1");
	NEAR(pdist_prob_greater(&d, &e), 0.5, 1e-16);
	d = PARSE("{\"a\": 0.5, \"b\": 0.5}");
	e = PARSE("{\"b\": 0.5, \"c\": 0.5}");
	NEAR(pdist_prob_equal(&d, &e), 0.25, 1e-16);
	e = PARSE("1");
	CHECK(pdist_prob_equal(&d, &e) == 0);
}

int
main(void)
{
	test_parse();
	test_canon();
	test_math();
	test_arith();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
