/*-------------------------------------------------------------------------
 *
 * fuzz_pdist_parse.c
 *	  libFuzzer target for the pdist text parser and the core behind it.
 *
 * Each input is parsed as pdist text; every value the parser accepts must
 * be in canonical form, survive the stored-layout round trip, and go
 * through the maths and arithmetic functions without faults and with sane
 * results.  The same bytes are also offered to pdist_check_flat as an
 * untrusted stored value, and whatever it accepts must satisfy the same
 * invariants.  Any violation abort()s, which libFuzzer reports as a crash.
 *
 * pdist_alloc and pdist_free track every block so that everything still
 * allocated is freed after each input, as the server's memory contexts
 * would; LeakSanitizer then only sees the harness's own leaks.
 *
 * test/fuzz/fuzz_pdist_parse.c
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdist.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the blocks handed out for the current input */
static void **blocks = NULL;
static size_t nblocks = 0;
static size_t maxblocks = 0;

void *
pdist_alloc(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
		abort();
	if (nblocks == maxblocks)
	{
		size_t		newmax = maxblocks ? maxblocks * 2 : 256;
		void	  **newblocks = realloc(blocks, newmax * sizeof(void *));

		if (newblocks == NULL)
			abort();
		blocks = newblocks;
		maxblocks = newmax;
	}
	blocks[nblocks++] = p;
	return p;
}

void
pdist_free(void *ptr)
{
	size_t		i = nblocks;

	/* recent blocks are the likely ones */
	while (i > 0)
	{
		i--;
		if (blocks[i] == ptr)
		{
			blocks[i] = blocks[--nblocks];
			free(ptr);
			return;
		}
	}
	/* not ours, or freed twice */
	abort();
}

void
pdist_check_interrupts(void)
{
}

static void
free_all(void)
{
	while (nblocks > 0)
		free(blocks[--nblocks]);
}

static void
fail(const char *what)
{
	fprintf(stderr, "invariant violated: %s\n", what);
	abort();
}

#define REQUIRE(cond) do { if (!(cond)) fail(#cond); } while (0)

static int
label_cmp(const char *a, int alen, const char *b, int blen)
{
	int			minlen = (alen < blen) ? alen : blen;
	int			c = (minlen > 0) ? memcmp(a, b, (size_t) minlen) : 0;

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/* Check canonical form directly, then through the stored layout. */
static void
check_canonical(const Pdist *d)
{
	double		sum = 0.0;
	double		comp = 0.0;
	size_t		size;
	PdistFlat  *flat;
	PdistError	err;
	Pdist		back;
	int			i;

	REQUIRE(d->kind == PDIST_NUMERIC || d->kind == PDIST_CATEGORICAL);
	REQUIRE(d->n >= 1 && d->n <= PDIST_MAX_OUTCOMES);
	for (i = 0; i < d->n; i++)
	{
		double		t = sum + d->prob[i];

		REQUIRE(isfinite(d->prob[i]) && d->prob[i] > 0.0);
		comp += (fabs(sum) >= fabs(d->prob[i])) ?
			(sum - t) + d->prob[i] : (d->prob[i] - t) + sum;
		sum = t;
	}
	REQUIRE(fabs(sum + comp - 1.0) <= 1e-9);

	if (d->kind == PDIST_NUMERIC)
	{
		bool		any_sigma = false;

		REQUIRE(d->label == NULL);
		for (i = 0; i < d->n; i++)
		{
			double		s = d->sigma ? d->sigma[i] : 0.0;

			REQUIRE(isfinite(d->value[i]));
			REQUIRE(!(d->value[i] == 0.0 && signbit(d->value[i])));
			REQUIRE(isfinite(s) && s >= 0.0 && !signbit(s));
			if (s > 0.0)
				any_sigma = true;
			if (i > 0)
			{
				double		ps = d->sigma ? d->sigma[i - 1] : 0.0;

				REQUIRE(d->value[i - 1] < d->value[i] ||
						(d->value[i - 1] == d->value[i] && ps < s));
			}
		}
		REQUIRE((d->sigma != NULL) == any_sigma);
		REQUIRE(pdist_is_continuous(d) == any_sigma);
	}
	else
	{
		REQUIRE(d->value == NULL && d->sigma == NULL);
		REQUIRE(!pdist_is_continuous(d));
		for (i = 0; i < d->n; i++)
		{
			REQUIRE(d->label_len[i] >= 0 &&
					d->label_len[i] <= PDIST_MAX_LABEL_BYTES);
			if (i > 0)
				REQUIRE(label_cmp(d->label[i - 1], d->label_len[i - 1],
								  d->label[i], d->label_len[i]) < 0);
		}
	}

	size = pdist_flat_size(d);
	REQUIRE(size >= PDIST_FLAT_HEADER_SIZE && size < 64 * 1024 * 1024);
	flat = pdist_alloc(size);
	pdist_flatten(d, flat);
	if (!pdist_check_flat(flat, size, &err))
	{
		fprintf(stderr, "%s: %s\n", err.message, err.detail);
		fail("pdist_check_flat rejects a flattened canonical value");
	}
	REQUIRE(!pdist_check_flat(flat, size - 1, &err));
	REQUIRE(err.status == PDIST_ERR_CORRUPT);
	pdist_from_flat(flat, &back);
	REQUIRE(pdist_compare(d, &back) == 0);
	REQUIRE(pdist_compare(&back, d) == 0);
	REQUIRE(pdist_compare(d, d) == 0);

	/* canonicalising a canonical value leaves it alone, to the bit */
	pdist_copy(d, &back);
	REQUIRE(pdist_canonicalize(&back, &err));
	REQUIRE(pdist_flat_size(&back) == size);
	{
		PdistFlat  *again = pdist_alloc(size);

		pdist_flatten(&back, again);
		REQUIRE(memcmp((char *) flat + sizeof(int32_t),
					   (char *) again + sizeof(int32_t),
					   size - sizeof(int32_t)) == 0);
	}
}

/* largest magnitude of a value or stddev, to know when overflow is fair */
static double
magnitude(const Pdist *d)
{
	double		m = 0.0;
	int			i;

	for (i = 0; i < d->n; i++)
	{
		if (fabs(d->value[i]) > m)
			m = fabs(d->value[i]);
		if (d->sigma && d->sigma[i] > m)
			m = d->sigma[i];
	}
	return m;
}

static void
check_numeric(const Pdist *d, uint64_t seed)
{
	double		mean = pdist_mean(d);
	double		var = pdist_variance(d);
	double		scale = magnitude(d);
	double		q25;
	double		q50;
	double		q75;
	double		c;
	int			mode;
	double		draws[16];
	int			i;

	REQUIRE(isfinite(mean));
	REQUIRE(mean >= d->value[0] && mean <= d->value[d->n - 1]);
	REQUIRE(!isnan(var) && var >= 0.0);
	if (scale <= 1e150)
		REQUIRE(isfinite(var));
	if (d->sigma == NULL && d->n == 1)
		REQUIRE(var == 0.0 && mean == d->value[0]);

	q25 = pdist_quantile(d, 0.25);
	q50 = pdist_quantile(d, 0.5);
	q75 = pdist_quantile(d, 0.75);
	REQUIRE(!isnan(q25) && !isnan(q50) && !isnan(q75));
	REQUIRE(q25 <= q50 && q50 <= q75);
	if (d->sigma == NULL)
	{
		REQUIRE(pdist_quantile(d, 0.0) == d->value[0]);
		REQUIRE(pdist_quantile(d, 1.0) == d->value[d->n - 1]);
		REQUIRE(pdist_prob_point(d, q50) > 0.0);
		REQUIRE(pdist_cdf(d, d->value[d->n - 1]) == 1.0);
		REQUIRE(pdist_cdf_below(d, d->value[0]) == 0.0);
	}
	else
	{
		REQUIRE(pdist_quantile(d, 0.0) == -INFINITY);
		REQUIRE(pdist_quantile(d, 1.0) == INFINITY);
		/* the cdf reaches the level at the quantile, not before */
		REQUIRE(pdist_cdf(d, q50) >= 0.5 - 1e-9);
	}

	c = pdist_cdf(d, mean);
	REQUIRE(c >= 0.0 && c <= 1.0);
	REQUIRE(pdist_cdf_below(d, mean) <= c);
	/*
	 * The tails complement the cdf.  (Stored values are accepted with
	 * probabilities summing to 1 within 1e-9, hence the tolerances here and
	 * below.)
	 */
	REQUIRE(fabs(pdist_prob_above(d, mean) + c - 1.0) <= 1e-8);
	REQUIRE(fabs(pdist_prob_at_or_above(d, mean) +
				 pdist_cdf_below(d, mean) - 1.0) <= 1e-8);
	c = pdist_prob_point(d, d->value[0]);
	REQUIRE(c >= 0.0 && c <= 1.0);

	/* scalar quantiles, at a level and degrees of freedom from the input */
	{
		double		p = d->prob[0];
		double		df = 1.0 + fmod(fabs(d->value[0]), 1e7);
		double		z = pdist_normal_quantile(p);
		double		t = pdist_student_t_quantile(p, df);

		REQUIRE(!isnan(z) && !isnan(t));
		REQUIRE(p < 0.5 ? (z < 0.0 && t < 0.0) :
				(p > 0.5 ? (z > 0.0 && t > 0.0) : (z == 0.0 && t == 0.0)));
		/* the t distribution has heavier tails than the normal */
		REQUIRE(fabs(t) >= fabs(z) * (1.0 - 1e-12));
		/* symmetry, where 1 - p loses little to rounding */
		if (p > 1e-4 && p < 1.0 && fabs(p - 0.5) > 0.01)
			REQUIRE(fabs(pdist_student_t_quantile(1.0 - p, df) + t) <=
					1e-9 * fabs(t));
	}

	mode = pdist_mode_index(d);
	REQUIRE(mode >= 0 && mode < d->n);
	REQUIRE(pdist_mode_value(d) == d->value[mode]);

	pdist_sample_values(d, seed, 16, draws);
	for (i = 0; i < 16; i++)
		REQUIRE(isfinite(draws[i]));

	if (d->n <= 64)
	{
		Pdist		disc;
		Pdist		copy;

		pdist_discretize(d, 16, &disc);
		check_canonical(&disc);
		REQUIRE(disc.sigma == NULL);
		if (scale <= 1e150)
			REQUIRE(fabs(pdist_mean(&disc) - mean) <= 1e-9 * (scale + 1.0));

		pdist_copy(d, &copy);
		pdist_cap_support(&copy, 3);
		check_canonical(&copy);
		REQUIRE(copy.n <= 3 || copy.n == d->n);
		if (scale <= 1e150)
		{
			REQUIRE(fabs(pdist_mean(&copy) - mean) <= 1e-9 * (scale + 1.0));
			if (d->sigma == NULL)
				REQUIRE(pdist_variance(&copy) <= var * (1 + 1e-9) + 1e-300);
		}
	}
}

static int
sign(int c)
{
	return (c > 0) - (c < 0);
}

/* pdist_compare is antisymmetric, and transitive on a few fixed values */
static void
check_order(const Pdist *d)
{
	static const char *const fixed[] = {
		"1", "{0: 0.5, 2: 0.5}", "normal(1, 1)", "\"a\"", "{\"a\": 0.5, \"b\": 0.5}"
	};
	Pdist		f[5];
	PdistError	err;
	int			i;
	int			j;

	for (i = 0; i < 5; i++)
	{
		if (!pdist_parse(fixed[i], &f[i], &err))
			fail("a fixed value does not parse");
		REQUIRE(sign(pdist_compare(d, &f[i])) == -sign(pdist_compare(&f[i], d)));
		if (d->kind != f[i].kind)
			REQUIRE(pdist_compare(d, &f[i]) == (d->kind == PDIST_NUMERIC ? -1 : 1));
	}
	for (i = 0; i < 5; i++)
		for (j = 0; j < 5; j++)
			if (pdist_compare(d, &f[i]) < 0 && pdist_compare(&f[i], &f[j]) < 0)
				REQUIRE(pdist_compare(d, &f[j]) < 0);
}

/* operations on one value of either kind */
static void
check_any(const Pdist *d, uint64_t seed)
{
	Pdist		out;
	PdistError	err;
	double		h;
	int			idx[16];
	char	   *hist;
	int			lines = 1;
	int			i;

	if (pdist_entropy(d, 2.0, &h, &err))
	{
		REQUIRE(!isnan(h));
		if (!pdist_is_continuous(d))
			REQUIRE(h >= 0.0 && h <= log2((double) d->n) + 1e-9);
	}
	else
	{
		/* point masses mixed with normals, or scales too far apart */
		REQUIRE(err.status == PDIST_ERR_KIND ||
				err.status == PDIST_ERR_ARGUMENT);
		REQUIRE(d->kind == PDIST_NUMERIC && d->sigma != NULL && d->n > 1);
	}
	REQUIRE(!pdist_entropy(d, 1.0, &h, &err) && err.status == PDIST_ERR_ARGUMENT);

	pdist_collapse(d, 0.9, &out);
	check_canonical(&out);
	REQUIRE(out.kind == d->kind);
	pdist_top_k(d, 3, &out);
	check_canonical(&out);
	REQUIRE(out.n <= 3);

	hist = pdist_histogram(d, 20);
	REQUIRE(hist != NULL && strlen(hist) > 0);
	for (i = 0; hist[i] != '\0'; i++)
		if (hist[i] == '\n')
			lines++;
	REQUIRE(lines <= 40);

	pdist_sample_indexes(d, seed, 16, idx);
	for (i = 0; i < 16; i++)
		REQUIRE(idx[i] >= 0 && idx[i] < d->n);

	i = pdist_mode_index(d);
	REQUIRE(i >= 0 && i < d->n);

	check_order(d);

	if (d->kind == PDIST_CATEGORICAL)
	{
		REQUIRE(pdist_prob_label(d, d->label[0], d->label_len[0]) == d->prob[0]);
		h = pdist_prob_equal(d, d);
		REQUIRE(h > 0.0 && h <= 1.0);
	}
	else
		check_numeric(d, seed);

	if (d->n <= 16)
	{
		Pdist		point;
		double		p;

		if (pdist_mix(d, d, 0.3, &out, &err))
			check_canonical(&out);
		else
			fail("pdist_mix of a value with itself");
		if (pdist_interpolate(d, d, 0.5, PDIST_MAX_SUPPORT, &out, &err))
			check_canonical(&out);
		else
			REQUIRE(err.status == PDIST_ERR_RANGE);

		pdist_make_point(&point, 1.0);
		if (d->kind == PDIST_CATEGORICAL)
		{
			REQUIRE(!pdist_add(d, &point, 10, &out, &err) && err.status == PDIST_ERR_KIND);
			REQUIRE(!pdist_mix(d, &point, 0.5, &out, &err) && err.status == PDIST_ERR_KIND);
			REQUIRE(pdist_prob_equal(d, &point) == 0.0);
			return;
		}

		if (pdist_add(d, d, 50, &out, &err))
		{
			check_canonical(&out);
			REQUIRE(out.n <= 50);
		}
		else
			REQUIRE(err.status == PDIST_ERR_RANGE);
		if (pdist_multiply(d, d, 50, &out, &err))
		{
			check_canonical(&out);
			REQUIRE(out.n <= 50);
		}
		else
			REQUIRE(err.status == PDIST_ERR_RANGE);
		if (pdist_interpolate(d, &point, 0.25, 20, &out, &err))
		{
			check_canonical(&out);
			REQUIRE(out.n <= 20);
		}
		else
			REQUIRE(err.status == PDIST_ERR_RANGE);
		if (pdist_mix(d, &point, 0.5, &out, &err))
			check_canonical(&out);
		else
			fail("pdist_mix");

		if (magnitude(d) <= 1e100)
		{
			pdist_affine(d, -3.0, 2.0, &out);
			check_canonical(&out);
			pdist_affine(d, 0.0, 2.0, &out);
			check_canonical(&out);
		}

		p = pdist_prob_greater(d, d);
		REQUIRE(p >= 0.0 && p <= 1.0);
		h = pdist_prob_equal(d, d);
		REQUIRE(h >= 0.0 && h <= 1.0);
		/* P(A > B) + P(B > A) + P(A = B) = 1 for independent copies */
		REQUIRE(fabs(2.0 * p + h - 1.0) <= 1e-8);
	}
}

/*
 * Flatten d and damage it in a way the input decides (one byte changed, or
 * a double replaced by a special value), then offer it to
 * pdist_check_flat: near-valid stored values are where a validator's gaps
 * hide, and random bytes rarely come near.  Whatever it accepts must be
 * canonical.
 */
static void
check_corrupted(const Pdist *d, const uint8_t *data, size_t size)
{
	static const double special[] = {
		-0.0, 0.0, -1.0, 1.0, INFINITY, -INFINITY, NAN, DBL_MAX, 1e-320, 0.5
	};
	size_t		flat_size = pdist_flat_size(d);
	PdistFlat  *flat = pdist_alloc(flat_size);
	PdistError	err;
	Pdist		back;
	uint32_t	h = 2166136261u;
	size_t		i;

	/* FNV-1a of the input picks the damage */
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;

	pdist_flatten(d, flat);
	if (h & 1)
	{
		size_t		pos = (h >> 1) % flat_size;

		((uint8_t *) flat)[pos] ^= (uint8_t) ((h >> 24) | 1);
	}
	else if (flat_size >= PDIST_FLAT_HEADER_SIZE + sizeof(double))
	{
		size_t		slots = (flat_size - PDIST_FLAT_HEADER_SIZE) / sizeof(double);
		size_t		slot = (h >> 1) % slots;

		memcpy((char *) flat + PDIST_FLAT_HEADER_SIZE + slot * sizeof(double),
			   &special[(h >> 20) % 10], sizeof(double));
	}

	if (pdist_check_flat(flat, flat_size, &err))
	{
		pdist_from_flat(flat, &back);
		check_canonical(&back);
		check_any(&back, h);
	}
	else
		REQUIRE(err.status == PDIST_ERR_CORRUPT);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	Pdist		d;
	PdistError	err;
	uint64_t	seed = 0;
	size_t		i;

	for (i = 0; i < size && i < 8; i++)
		seed = (seed << 8) | data[i];

	/* the text path */
	text = pdist_alloc(size + 1);
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	memset(&err, 0, sizeof(err));
	if (pdist_parse(text, &d, &err))
	{
		check_canonical(&d);
		check_any(&d, seed);
		check_corrupted(&d, data, size);
	}
	else
	{
		REQUIRE(err.status != PDIST_OK);
		REQUIRE(err.message[0] >= 'a' && err.message[0] <= 'z');
		REQUIRE(memchr(err.message, '\0', sizeof(err.message)) != NULL);
		REQUIRE(err.detail[0] == '\0' ||
				(err.detail[0] >= 'A' && err.detail[0] <= 'Z' &&
				 err.detail[strlen(err.detail) - 1] == '.'));
		REQUIRE(err.hint[0] == '\0' ||
				err.hint[strlen(err.hint) - 1] == '.');
	}
	free_all();

	/* the same bytes as an untrusted stored value (aligned copy) */
	if (size >= PDIST_FLAT_HEADER_SIZE)
	{
		PdistFlat  *flat = pdist_alloc(size);

		memcpy(flat, data, size);
		if (pdist_check_flat(flat, size, &err))
		{
			pdist_from_flat(flat, &d);
			check_canonical(&d);
			check_any(&d, seed);
		}
		else
			REQUIRE(err.status == PDIST_ERR_CORRUPT);
		free_all();
	}
	return 0;
}
