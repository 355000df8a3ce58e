/*-------------------------------------------------------------------------
 *
 * pdist_canon.c
 *	  Building pdist values, their canonical form, stored layout and order.
 *
 * Canonical form makes equality a comparison of bytes: two equal
 * distributions flatten to identical bytes, so hashing, equality and the
 * b-tree order all agree.  pdist_check_flat() re-establishes that guarantee
 * for bytes that come from outside (binary input), so every function may
 * assume canonical input.
 *
 * src/pdist/pdist_canon.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdist.h"

/*
 * How far from 1 the probabilities of a canonical value may sum: stored
 * values are accepted within it, and probabilities within it are not
 * renormalised, so that every accepted value is a fixed point of
 * pdist_canonicalize.
 */
#define CANONICAL_SUM_SLACK	1e-9

/*
 * Sort keys.  Each carries its probability, so merged results can be
 * written back over the input arrays while later keys are still read.
 */
typedef struct NumericKey
{
	double		value;
	double		sigma;
	double		prob;
	int			index;			/* position in the input, for stability */
} NumericKey;

typedef struct LabelKey
{
	const char *label;
	double		prob;
	int			len;
	int			index;
} LabelKey;

static void *alloc_array(size_t count, size_t elsize);
static int	double_cmp(double a, double b);
static int	numeric_key_cmp(const void *a, const void *b);
static int	label_key_cmp(const void *a, const void *b);
static bool check_components(Pdist *d, bool bounded, PdistError *err);
static int	merge_numeric(Pdist *d);
static int	merge_categorical(Pdist *d);
static bool normalise(Pdist *d, PdistError *err);
static void shrink_arrays(Pdist *d, int old_n);
static bool canonicalize_internal(Pdist *d, bool bounded, PdistError *err);
static bool corrupt(PdistError *err, const char *detail);
static double read_double(const char *p);
static uint32_t read_uint32(const char *p);

/*
 * Allocate a zeroed array.  An impossible size becomes a request the
 * allocator refuses (palloc0 throws, the fuzz harness aborts) rather than a
 * wrapped-around small allocation.
 */
static void *
alloc_array(size_t count, size_t elsize)
{
	if (count == 0)
		count = 1;
	if (count > SIZE_MAX / elsize)
		return pdist_alloc(SIZE_MAX);
	return pdist_alloc(count * elsize);
}

void
pdist_set_error(PdistError *err, PdistStatus status, const char *message,
		  const char *detail, const char *hint)
{
	err->status = status;
	snprintf(err->message, sizeof(err->message), "%s", message);
	snprintf(err->detail, sizeof(err->detail), "%s", detail ? detail : "");
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
}

void
pdist_sum_add(PdistSum *acc, double x)
{
	double		t = acc->sum + x;

	if (fabs(acc->sum) >= fabs(x))
		acc->comp += (acc->sum - t) + x;
	else
		acc->comp += (x - t) + acc->sum;
	acc->sum = t;
}

double
pdist_sum_result(const PdistSum *acc)
{
	/* once the sum overflowed the compensation is meaningless */
	if (!isfinite(acc->sum))
		return acc->sum;
	return acc->sum + acc->comp;
}

/* A compensated sum of probabilities, clamped to [0, 1] against rounding. */
double
pdist_sum_probability(const PdistSum *acc)
{
	double		p = pdist_sum_result(acc);

	return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

/* The C collation: bytes as unsigned char, then the shorter label first. */
int
pdist_label_cmp(const char *a, int alen, const char *b, int blen)
{
	int			minlen = (alen < blen) ? alen : blen;

	/* memcmp must not see a NULL pointer, not even with length 0 */
	if (minlen > 0)
	{
		int			c = memcmp(a, b, (size_t) minlen);

		if (c != 0)
			return (c < 0) ? -1 : 1;
	}
	if (alen != blen)
		return (alen < blen) ? -1 : 1;
	return 0;
}

static int
double_cmp(double a, double b)
{
	if (a < b)
		return -1;
	if (a > b)
		return 1;
	return 0;
}

static int
numeric_key_cmp(const void *a, const void *b)
{
	const NumericKey *ka = (const NumericKey *) a;
	const NumericKey *kb = (const NumericKey *) b;
	int			c;

	c = double_cmp(ka->value, kb->value);
	if (c == 0)
		c = double_cmp(ka->sigma, kb->sigma);
	if (c == 0)
		c = (ka->index > kb->index) - (ka->index < kb->index);
	return c;
}

static int
label_key_cmp(const void *a, const void *b)
{
	const LabelKey *ka = (const LabelKey *) a;
	const LabelKey *kb = (const LabelKey *) b;
	int			c;

	c = pdist_label_cmp(ka->label, ka->len, kb->label, kb->len);
	if (c == 0)
		c = (ka->index > kb->index) - (ka->index < kb->index);
	return c;
}

/*
 * pdist_init
 *		Make d an owned, zeroed distribution of n outcomes.
 *
 * n may be 0 (the caller fills in outcomes later and sets n); at least one
 * element is allocated so that no allocation has size 0.
 */
void
pdist_init(Pdist *d, PdistKind kind, int n, bool with_sigma)
{
	size_t		count = (n > 0) ? (size_t) n : 1;

	memset(d, 0, sizeof(Pdist));
	d->kind = kind;
	d->n = (n > 0) ? n : 0;
	d->prob = alloc_array(count, sizeof(double));
	if (kind == PDIST_CATEGORICAL)
	{
		d->label = alloc_array(count, sizeof(const char *));
		d->label_len = alloc_array(count, sizeof(int));
	}
	else
	{
		d->value = alloc_array(count, sizeof(double));
		if (with_sigma)
			d->sigma = alloc_array(count, sizeof(double));
	}
}

/*
 * pdist_make_point
 *		Make d the certain value x (which the caller ensures is finite).
 */
void
pdist_make_point(Pdist *d, double x)
{
	pdist_init(d, PDIST_NUMERIC, 1, false);
	d->value[0] = (x == 0.0) ? 0.0 : x;	/* no negative zero */
	d->prob[0] = 1.0;
}

/*
 * pdist_copy
 *		Make out an owned copy of d.  Categorical labels keep pointing at d's
 *		label bytes, which must therefore live at least as long as out.
 */
void
pdist_copy(const Pdist *d, Pdist *out)
{
	size_t		n = (size_t) d->n;

	pdist_init(out, d->kind, d->n, d->sigma != NULL);
	memcpy(out->prob, d->prob, n * sizeof(double));
	if (d->kind == PDIST_CATEGORICAL)
	{
		memcpy(out->label, d->label, n * sizeof(const char *));
		memcpy(out->label_len, d->label_len, n * sizeof(int));
	}
	else
	{
		memcpy(out->value, d->value, n * sizeof(double));
		if (d->sigma != NULL)
			memcpy(out->sigma, d->sigma, n * sizeof(double));
	}
}

/*
 * pdist_free_arrays
 *		Free the arrays of an owned Pdist (not the label bytes, which it
 *		does not own) and clear it.
 */
void
pdist_free_arrays(Pdist *d)
{
	pdist_free(d->prob);
	if (d->kind == PDIST_CATEGORICAL)
	{
		pdist_free((void *) d->label);
		pdist_free(d->label_len);
	}
	else
	{
		pdist_free(d->value);
		if (d->sigma != NULL)
			pdist_free(d->sigma);
	}
	memset(d, 0, sizeof(Pdist));
}

/*
 * Validate the outcomes one by one, turning negative zeros into zeros so
 * that equal values have equal bytes.
 */
static bool
check_components(Pdist *d, bool bounded, PdistError *err)
{
	char		detail[128];
	int			i;

	if (d->n < 1)
	{
		pdist_set_error(err, PDIST_ERR_OUTCOME,
						"a pdist must have at least one outcome", NULL, NULL);
		return false;
	}
	if (bounded && d->n > PDIST_MAX_OUTCOMES)
	{
		char		message[64];

		snprintf(message, sizeof(message),
				 "a pdist can have at most %d outcomes", PDIST_MAX_OUTCOMES);
		snprintf(detail, sizeof(detail), "It has %d.", d->n);
		pdist_set_error(err, PDIST_ERR_LIMIT, message, detail, NULL);
		return false;
	}

	for (i = 0; i < d->n; i++)
	{
		if (!isfinite(d->prob[i]) || d->prob[i] < 0.0)
		{
			pdist_set_error(err, PDIST_ERR_PROBABILITY,
							"probability of a pdist outcome must be finite and not negative",
							NULL, NULL);
			return false;
		}
	}

	if (d->kind == PDIST_CATEGORICAL)
	{
		for (i = 0; i < d->n; i++)
		{
			if (d->label_len[i] < 0 ||
				d->label_len[i] > PDIST_MAX_LABEL_BYTES)
			{
				char		message[64];

				snprintf(message, sizeof(message),
						 "pdist label exceeds %d bytes",
						 PDIST_MAX_LABEL_BYTES);
				pdist_set_error(err, PDIST_ERR_OUTCOME, message, NULL, NULL);
				return false;
			}
		}
		return true;
	}

	for (i = 0; i < d->n; i++)
	{
		if (!isfinite(d->value[i]))
		{
			pdist_set_error(err, PDIST_ERR_OUTCOME,
							"pdist outcome must be finite", NULL, NULL);
			return false;
		}
		if (d->value[i] == 0.0)
			d->value[i] = 0.0;
		if (d->sigma != NULL)
		{
			if (!isfinite(d->sigma[i]) || d->sigma[i] < 0.0)
			{
				pdist_set_error(err, PDIST_ERR_OUTCOME,
								"standard deviation of a normal must be finite and not negative",
								NULL, NULL);
				return false;
			}
			if (d->sigma[i] == 0.0)
				d->sigma[i] = 0.0;
		}
	}
	return true;
}

/*
 * Sort the components by (value, sigma), keeping the input order among
 * equal keys, sum the probabilities of equal keys and drop those of
 * probability zero.  Returns the new number of components.
 */
static int
merge_numeric(Pdist *d)
{
	NumericKey *keys;
	bool		sorted = true;
	int			n = d->n;
	int			out = 0;
	int			i;

	keys = alloc_array((size_t) n, sizeof(NumericKey));
	for (i = 0; i < n; i++)
	{
		keys[i].value = d->value[i];
		keys[i].sigma = (d->sigma != NULL) ? d->sigma[i] : 0.0;
		keys[i].prob = d->prob[i];
		keys[i].index = i;
		if (i > 0 && sorted && numeric_key_cmp(&keys[i - 1], &keys[i]) > 0)
			sorted = false;
	}
	if (!sorted)
		qsort(keys, (size_t) n, sizeof(NumericKey), numeric_key_cmp);

	i = 0;
	while (i < n)
	{
		double		value = keys[i].value;
		double		sigma = keys[i].sigma;
		double		prob = 0.0;

		while (i < n && keys[i].value == value && keys[i].sigma == sigma)
		{
			prob += keys[i].prob;
			i++;
		}
		if (prob > 0.0)
		{
			d->value[out] = value;
			if (d->sigma != NULL)
				d->sigma[out] = sigma;
			d->prob[out] = prob;
			out++;
		}
	}
	pdist_free(keys);
	return out;
}

/* The same for labels; merged labels keep the first occurrence's bytes. */
static int
merge_categorical(Pdist *d)
{
	LabelKey   *keys;
	bool		sorted = true;
	int			n = d->n;
	int			out = 0;
	int			i;

	keys = alloc_array((size_t) n, sizeof(LabelKey));
	for (i = 0; i < n; i++)
	{
		keys[i].label = d->label[i];
		keys[i].len = d->label_len[i];
		keys[i].prob = d->prob[i];
		keys[i].index = i;
		if (i > 0 && sorted && label_key_cmp(&keys[i - 1], &keys[i]) > 0)
			sorted = false;
	}
	if (!sorted)
		qsort(keys, (size_t) n, sizeof(LabelKey), label_key_cmp);

	i = 0;
	while (i < n)
	{
		const char *label = keys[i].label;
		int			len = keys[i].len;
		double		prob = 0.0;

		while (i < n &&
			   pdist_label_cmp(keys[i].label, keys[i].len, label, len) == 0)
		{
			prob += keys[i].prob;
			i++;
		}
		if (prob > 0.0)
		{
			d->label[out] = label;
			d->label_len[out] = len;
			d->prob[out] = prob;
			out++;
		}
	}
	pdist_free(keys);
	return out;
}

/*
 * Check that the (merged) probabilities sum to 1 within the tolerance and
 * divide them by their sum, so that stored values sum to 1 as closely as
 * floating point allows.
 */
static bool
normalise(Pdist *d, PdistError *err)
{
	PdistSum	acc = {0.0, 0.0};
	double		total;
	bool		above_one = false;
	int			i;

	if (d->n == 0)
	{
		pdist_set_error(err, PDIST_ERR_PROBABILITY,
						"probabilities of a pdist must sum to 1",
						"They sum to 0.",
						"Adjust the probabilities; the accepted tolerance is 1e-06.");
		return false;
	}

	for (i = 0; i < d->n; i++)
	{
		pdist_sum_add(&acc, d->prob[i]);
		if (d->prob[i] > 1.0)
			above_one = true;
	}
	total = pdist_sum_result(&acc);

	if (!(fabs(total - 1.0) <= PDIST_SUM_TOLERANCE))
	{
		char		detail[128];
		char		hint[128];

		snprintf(detail, sizeof(detail), "They sum to %.15g.", total);
		snprintf(hint, sizeof(hint),
				 "Adjust the probabilities; the accepted tolerance is %g.",
				 PDIST_SUM_TOLERANCE);
		pdist_set_error(err, PDIST_ERR_PROBABILITY,
						"probabilities of a pdist must sum to 1", detail, hint);
		return false;
	}

	/*
	 * Dividing by a sum that is 1 up to rounding would only move the last
	 * bits, and would make canonicalising a canonical value change it; a
	 * renormalised sum is always well within CANONICAL_SUM_SLACK of 1, and
	 * no renormalised probability exceeds 1.  (total is within 1e-6 of 1,
	 * so no positive probability becomes 0.)
	 */
	if (fabs(total - 1.0) > CANONICAL_SUM_SLACK || above_one)
	{
		for (i = 0; i < d->n; i++)
			d->prob[i] /= total;
	}
	return true;
}

/*
 * After merging a large intermediate result down to a few components, move
 * them to arrays of the right size so the result does not pin the large
 * ones.  Only for owned intermediates.
 */
static void
shrink_arrays(Pdist *d, int old_n)
{
	Pdist		small;

	if (old_n <= 64 || d->n > old_n / 2)
		return;

	pdist_copy(d, &small);
	pdist_free_arrays(d);
	*d = small;
}

static bool
canonicalize_internal(Pdist *d, bool bounded, PdistError *err)
{
	int			i;

	if (!check_components(d, bounded, err))
		return false;

	if (d->kind == PDIST_CATEGORICAL)
		d->n = merge_categorical(d);
	else
		d->n = merge_numeric(d);

	if (!normalise(d, err))
		return false;

	if (d->sigma != NULL)
	{
		bool		any_sigma = false;

		for (i = 0; i < d->n; i++)
		{
			if (d->sigma[i] > 0.0)
			{
				any_sigma = true;
				break;
			}
		}
		/* the array stays allocated; it belongs to the caller's memory */
		if (!any_sigma)
			d->sigma = NULL;
	}
	return true;
}

/*
 * pdist_canonicalize
 *		Put an owned distribution into canonical form (see pdist.h), in place.
 *
 * Arrays are rewritten in place (n only shrinks); categorical labels keep
 * pointing at their original bytes.  On failure err is filled and d is left
 * in an unspecified but valid-to-free state.
 */
bool
pdist_canonicalize(Pdist *d, PdistError *err)
{
	return canonicalize_internal(d, true, err);
}

/*
 * pdist_canonicalize_capped
 *		Canonicalise an intermediate result of any size, then reduce a numeric
 *		one to at most max_support components (clamped to 1 ..
 *		PDIST_MAX_OUTCOMES) with pdist_cap_support.
 *
 * A categorical result cannot be reduced, so more than PDIST_MAX_OUTCOMES
 * distinct labels is an error.  When merging shrank d a lot, the arrays are
 * reallocated at the smaller size and the old ones freed, so d must own
 * them.
 */
bool
pdist_canonicalize_capped(Pdist *d, int max_support, PdistError *err)
{
	int			old_n = d->n;

	if (!canonicalize_internal(d, false, err))
		return false;

	if (max_support < 1)
		max_support = 1;
	if (max_support > PDIST_MAX_OUTCOMES)
		max_support = PDIST_MAX_OUTCOMES;

	if (d->kind == PDIST_CATEGORICAL)
	{
		if (d->n > PDIST_MAX_OUTCOMES)
		{
			char		message[64];
			char		detail[64];

			snprintf(message, sizeof(message),
					 "a pdist can have at most %d outcomes",
					 PDIST_MAX_OUTCOMES);
			snprintf(detail, sizeof(detail), "The result would have %d.",
					 d->n);
			pdist_set_error(err, PDIST_ERR_LIMIT, message, detail, NULL);
			return false;
		}
	}
	else
		pdist_cap_support(d, max_support);

	shrink_arrays(d, old_n);
	return true;
}

/*
 * pdist_flat_size
 *		Bytes needed to flatten d, including the 4-byte varlena header.
 *
 * Returns SIZE_MAX if the size does not fit in size_t, which only a
 * corrupt d could cause; the allocator refuses it.
 */
size_t
pdist_flat_size(const Pdist *d)
{
	size_t		n;
	size_t		per_outcome;
	size_t		size;
	int			i;

	if (d->n < 0)
		return SIZE_MAX;
	n = (size_t) d->n;

	if (d->kind == PDIST_CATEGORICAL)
		per_outcome = sizeof(double) + sizeof(uint32_t);
	else
		per_outcome = sizeof(double) * ((d->sigma != NULL) ? 3 : 2);

	if (n > (SIZE_MAX - PDIST_FLAT_HEADER_SIZE) / per_outcome)
		return SIZE_MAX;
	size = PDIST_FLAT_HEADER_SIZE + n * per_outcome;

	if (d->kind == PDIST_CATEGORICAL)
	{
		for (i = 0; i < d->n; i++)
		{
			size_t		len = (d->label_len[i] > 0) ?
				(size_t) d->label_len[i] : 0;

			if (len > SIZE_MAX - size)
				return SIZE_MAX;
			size += len;
		}
	}
	return size;
}

/*
 * pdist_flatten
 *		Write canonical d into flat, which has pdist_flat_size(d) bytes.
 *
 * Every byte after vl_len_ is written (the struct has no padding), since
 * hashing and equality look at the bytes.  vl_len_ is the caller's.
 */
void
pdist_flatten(const Pdist *d, PdistFlat *flat)
{
	char	   *p = (char *) flat + PDIST_FLAT_HEADER_SIZE;
	size_t		n = (size_t) d->n;
	int			i;

	flat->version = PDIST_FLAT_VERSION;
	flat->kind = (uint8_t) d->kind;
	flat->flags = (d->kind == PDIST_NUMERIC && d->sigma != NULL) ?
		PDIST_FLAG_SIGMA : 0;
	flat->n = d->n;
	flat->reserved = 0;

	memcpy(p, d->prob, n * sizeof(double));
	p += n * sizeof(double);

	if (d->kind == PDIST_CATEGORICAL)
	{
		uint32_t	end = 0;

		for (i = 0; i < d->n; i++)
		{
			end += (uint32_t) d->label_len[i];
			memcpy(p, &end, sizeof(uint32_t));
			p += sizeof(uint32_t);
		}
		for (i = 0; i < d->n; i++)
		{
			if (d->label_len[i] > 0)
				memcpy(p, d->label[i], (size_t) d->label_len[i]);
			p += d->label_len[i];
		}
	}
	else
	{
		memcpy(p, d->value, n * sizeof(double));
		p += n * sizeof(double);
		if (d->sigma != NULL)
			memcpy(p, d->sigma, n * sizeof(double));
	}
}

/*
 * pdist_from_flat
 *		Make d a read-only view of a valid flat value.
 *
 * Numeric arrays point into flat, which must be 8-byte aligned (the type
 * has double alignment); a categorical view allocates the label pointer and
 * length arrays, the labels themselves point into flat.
 */
void
pdist_from_flat(const PdistFlat *flat, Pdist *d)
{
	char	   *base = (char *) flat + PDIST_FLAT_HEADER_SIZE;
	int			n = flat->n;
	int			i;

	memset(d, 0, sizeof(Pdist));
	d->kind = (PdistKind) flat->kind;
	d->n = n;
	d->prob = (double *) base;
	base += (size_t) n * sizeof(double);

	if (d->kind == PDIST_CATEGORICAL)
	{
		const char *ends = base;
		const char *labels = base + (size_t) n * sizeof(uint32_t);
		uint32_t	start = 0;

		d->label = alloc_array((size_t) n, sizeof(const char *));
		d->label_len = alloc_array((size_t) n, sizeof(int));
		for (i = 0; i < n; i++)
		{
			uint32_t	end = read_uint32(ends + (size_t) i * sizeof(uint32_t));

			d->label[i] = labels + start;
			d->label_len[i] = (int) (end - start);
			start = end;
		}
	}
	else
	{
		d->value = (double *) base;
		if (flat->flags & PDIST_FLAG_SIGMA)
			d->sigma = (double *) (base + (size_t) n * sizeof(double));
	}
}

static bool
corrupt(PdistError *err, const char *detail)
{
	pdist_set_error(err, PDIST_ERR_CORRUPT, "invalid binary data for type pdist",
					detail, NULL);
	return false;
}

/* Reads that make no assumption about the alignment of untrusted bytes */
static double
read_double(const char *p)
{
	double		x;

	memcpy(&x, p, sizeof(double));
	return x;
}

static uint32_t
read_uint32(const char *p)
{
	uint32_t	x;

	memcpy(&x, p, sizeof(uint32_t));
	return x;
}

/*
 * pdist_check_flat
 *		Validate untrusted bytes as a flat pdist: size bytes at flat,
 *		including the 4 varlena header bytes.
 *
 * Everything pdist_from_flat and the functions on canonical values rely on
 * is checked, including the canonical form itself, so that equal values
 * always have equal bytes.  Reads nothing outside the size bytes.
 */
bool
pdist_check_flat(const PdistFlat *flat, size_t size, PdistError *err)
{
	const char *bytes = (const char *) flat;
	const char *prob_p;
	const char *value_p;
	const char *sigma_p = NULL;
	PdistFlat	hdr;
	size_t		n;
	size_t		expected;
	char		detail[192];
	PdistSum	acc = {0.0, 0.0};
	double		total;
	size_t		i;

	if (size < PDIST_FLAT_HEADER_SIZE)
	{
		snprintf(detail, sizeof(detail),
				 "The value has %zu bytes, fewer than its %zu-byte header.",
				 size, (size_t) PDIST_FLAT_HEADER_SIZE);
		return corrupt(err, detail);
	}
	memcpy(&hdr, bytes, sizeof(PdistFlat));

	if (hdr.version != PDIST_FLAT_VERSION)
	{
		snprintf(detail, sizeof(detail), "Unsupported format version %d.",
				 (int) hdr.version);
		return corrupt(err, detail);
	}
	if (hdr.kind != PDIST_NUMERIC && hdr.kind != PDIST_CATEGORICAL)
	{
		snprintf(detail, sizeof(detail), "Unknown kind %d.", (int) hdr.kind);
		return corrupt(err, detail);
	}
	if ((hdr.flags & ~PDIST_FLAG_SIGMA) != 0 ||
		(hdr.kind == PDIST_CATEGORICAL && hdr.flags != 0))
	{
		snprintf(detail, sizeof(detail), "Invalid flags 0x%04x.",
				 (unsigned int) hdr.flags);
		return corrupt(err, detail);
	}
	if (hdr.reserved != 0)
		return corrupt(err, "The reserved header field is not zero.");
	if (hdr.n < 1 || hdr.n > PDIST_MAX_OUTCOMES)
	{
		snprintf(detail, sizeof(detail),
				 "The number of outcomes %d is out of range.", (int) hdr.n);
		return corrupt(err, detail);
	}
	n = (size_t) hdr.n;

	/* sizes cannot overflow: n <= 10000 and labels are checked below */
	prob_p = bytes + PDIST_FLAT_HEADER_SIZE;
	value_p = prob_p + n * sizeof(double);
	if (hdr.kind == PDIST_NUMERIC)
	{
		expected = PDIST_FLAT_HEADER_SIZE + n * sizeof(double) *
			((hdr.flags & PDIST_FLAG_SIGMA) ? 3 : 2);
		if (hdr.flags & PDIST_FLAG_SIGMA)
			sigma_p = value_p + n * sizeof(double);
	}
	else
	{
		size_t		fixed = PDIST_FLAT_HEADER_SIZE +
			n * (sizeof(double) + sizeof(uint32_t));
		uint32_t	prev = 0;

		if (size < fixed)
		{
			snprintf(detail, sizeof(detail),
					 "The value has %zu bytes, fewer than the %zu its %zu outcomes need.",
					 size, fixed, n);
			return corrupt(err, detail);
		}
		for (i = 0; i < n; i++)
		{
			uint32_t	end = read_uint32(value_p + i * sizeof(uint32_t));

			if (end < prev || end - prev > PDIST_MAX_LABEL_BYTES)
			{
				snprintf(detail, sizeof(detail),
						 "The end offset of label %zu is invalid.", i + 1);
				return corrupt(err, detail);
			}
			prev = end;
		}
		/* prev <= n * 1024, so this cannot overflow */
		expected = fixed + prev;
	}
	if (size != expected)
	{
		snprintf(detail, sizeof(detail),
				 "The value has %zu bytes where %zu were expected.",
				 size, expected);
		return corrupt(err, detail);
	}

	for (i = 0; i < n; i++)
	{
		double		p = read_double(prob_p + i * sizeof(double));

		/* canonical probabilities are p / sum(p), so never above 1 */
		if (!(p > 0.0 && p <= 1.0))
		{
			snprintf(detail, sizeof(detail),
					 "The probability of outcome %zu is not in (0, 1].",
					 i + 1);
			return corrupt(err, detail);
		}
		pdist_sum_add(&acc, p);
	}
	total = pdist_sum_result(&acc);
	if (!(fabs(total - 1.0) <= CANONICAL_SUM_SLACK))
	{
		snprintf(detail, sizeof(detail),
				 "The probabilities sum to %.17g.", total);
		return corrupt(err, detail);
	}

	if (hdr.kind == PDIST_NUMERIC)
	{
		bool		any_sigma = false;
		double		prev_v = 0.0;
		double		prev_s = 0.0;

		for (i = 0; i < n; i++)
		{
			double		v = read_double(value_p + i * sizeof(double));
			double		s = 0.0;

			if (sigma_p != NULL)
				s = read_double(sigma_p + i * sizeof(double));

			if (!isfinite(v) || (v == 0.0 && signbit(v)))
			{
				snprintf(detail, sizeof(detail),
						 "Outcome %zu is not a finite value in canonical form.",
						 i + 1);
				return corrupt(err, detail);
			}
			if (!isfinite(s) || s < 0.0 || (s == 0.0 && signbit(s)))
			{
				snprintf(detail, sizeof(detail),
						 "The standard deviation of outcome %zu is invalid.",
						 i + 1);
				return corrupt(err, detail);
			}
			if (s > 0.0)
				any_sigma = true;
			if (i > 0 && !(prev_v < v || (prev_v == v && prev_s < s)))
			{
				snprintf(detail, sizeof(detail),
						 "Outcome %zu is not in strictly increasing order.",
						 i + 1);
				return corrupt(err, detail);
			}
			prev_v = v;
			prev_s = s;
		}
		if (sigma_p != NULL && !any_sigma)
			return corrupt(err,
						   "The standard deviation flag is set but every standard deviation is zero.");
	}
	else
	{
		const char *labels = value_p + n * sizeof(uint32_t);
		uint32_t	prev_start = 0;
		uint32_t	start = 0;

		for (i = 0; i < n; i++)
		{
			uint32_t	end = read_uint32(value_p + i * sizeof(uint32_t));

			if (i > 0 &&
				pdist_label_cmp(labels + prev_start, (int) (start - prev_start),
								labels + start, (int) (end - start)) >= 0)
			{
				snprintf(detail, sizeof(detail),
						 "Label %zu is not in strictly increasing order.",
						 i + 1);
				return corrupt(err, detail);
			}
			prev_start = start;
			start = end;
		}
	}
	return true;
}

/*
 * pdist_compare
 *		Total order on canonical values, 0 exactly when they are equal.
 *
 * Numeric values sort before categorical ones.  Numeric values sort by mean
 * first, which is what users expect of ORDER BY; the rest only breaks ties
 * consistently.  A missing sigma array counts as zeros.
 */
int
pdist_compare(const Pdist *a, const Pdist *b)
{
	int			n;
	int			i;
	int			c;

	if (a->kind != b->kind)
		return (a->kind == PDIST_NUMERIC) ? -1 : 1;

	n = (a->n < b->n) ? a->n : b->n;

	if (a->kind == PDIST_NUMERIC)
	{
		c = double_cmp(pdist_mean(a), pdist_mean(b));
		if (c != 0)
			return c;
		if (a->n != b->n)
			return (a->n < b->n) ? -1 : 1;
		for (i = 0; i < n; i++)
		{
			c = double_cmp(a->value[i], b->value[i]);
			if (c == 0)
				c = double_cmp(a->sigma ? a->sigma[i] : 0.0,
							   b->sigma ? b->sigma[i] : 0.0);
			if (c == 0)
				c = double_cmp(a->prob[i], b->prob[i]);
			if (c != 0)
				return c;
		}
		return 0;
	}

	for (i = 0; i < n; i++)
	{
		c = pdist_label_cmp(a->label[i], a->label_len[i],
							b->label[i], b->label_len[i]);
		if (c == 0)
			c = double_cmp(a->prob[i], b->prob[i]);
		if (c != 0)
			return c;
	}
	if (a->n != b->n)
		return (a->n < b->n) ? -1 : 1;
	return 0;
}

/*
 * pdist_is_continuous
 *		Whether some component of d is a normal.
 */
bool
pdist_is_continuous(const Pdist *d)
{
	return d->kind == PDIST_NUMERIC && d->sigma != NULL;
}
