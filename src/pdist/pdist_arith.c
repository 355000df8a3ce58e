/*-------------------------------------------------------------------------
 *
 * pdist_arith.c
 *	  Arithmetic on independent pdists, mixtures, interpolation and
 *	  comparisons between two pdists.
 *
 * Sums and products are computed exactly over pairs of components where a
 * closed form exists (sums of normals are normal; a point times a normal
 * is a normal), so the result is a mixture again.  The number of
 * components grows multiplicatively, so pairs are bounded by PAIR_LIMIT and
 * results are reduced with pdist_cap_support, which keeps the mean.
 *
 * src/pdist/pdist_arith.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdist.h"

/* component pairs one sum or product may form */
#define PAIR_LIMIT			4000000

/* quantile segments narrower than this are merged into the next one */
#define SEGMENT_EPSILON		1e-15

static bool categorical_error(PdistError *err);
static bool kinds_differ_error(PdistError *err);
static bool range_error(PdistError *err);
static bool combine(const Pdist *a, const Pdist *b, int max_support,
					bool multiply, Pdist *out, PdistError *err);
static double *cumulative(const Pdist *d);

static bool
categorical_error(PdistError *err)
{
	pdist_set_error(err, PDIST_ERR_KIND,
					"arithmetic is not defined for a categorical pdist", NULL,
					"Use ttpdb.probability() or ttpdb.most_likely_label() for categorical distributions.");
	return false;
}

static bool
kinds_differ_error(PdistError *err)
{
	pdist_set_error(err, PDIST_ERR_KIND,
					"cannot combine a numeric and a categorical pdist", NULL, NULL);
	return false;
}

static bool
range_error(PdistError *err)
{
	pdist_set_error(err, PDIST_ERR_RANGE,
					"result of pdist arithmetic is out of range", NULL, NULL);
	return false;
}


/*
 * pdist_affine
 *		X * scale + shift for a numeric a.
 *
 * A zero scale gives the point mass at shift.  The result is canonical
 * provided it is finite, which the caller must check beforehand: as the
 * values are sorted and the map is monotone, it suffices that
 * value[0] * scale + shift, value[n-1] * scale + shift and
 * max(sigma) * |scale| are finite (and shift, when scale is 0).
 */
void
pdist_affine(const Pdist *a, double scale, double shift, Pdist *out)
{
	PdistError	err;
	int			i;

	if (scale == 0.0)
	{
		pdist_make_point(out, shift);
		return;
	}

	pdist_init(out, PDIST_NUMERIC, a->n, a->sigma != NULL);
	for (i = 0; i < a->n; i++)
	{
		out->value[i] = a->value[i] * scale + shift;
		out->prob[i] = a->prob[i];
		if (a->sigma != NULL)
			out->sigma[i] = a->sigma[i] * fabs(scale);
	}
	/* re-sorts for a negative scale; fails only on non-finite results */
	(void) pdist_canonicalize(out, &err);
}

/*
 * The sum or product of independent numeric a and b, over all pairs of
 * components.  Normal times normal has no closed form, so when both are
 * continuous a product discretises a first.
 */
static bool
combine(const Pdist *a, const Pdist *b, int max_support, bool multiply,
		Pdist *out, PdistError *err)
{
	Pdist		discrete;
	Pdist		capped;
	Pdist		tmp;
	const Pdist *x = a;
	const Pdist *y = b;
	bool		own_discrete = false;
	bool		own_capped = false;
	int			i;
	int			j;
	int			k;

	if (a->kind != PDIST_NUMERIC || b->kind != PDIST_NUMERIC)
		return categorical_error(err);

	if (multiply && pdist_is_continuous(a) && pdist_is_continuous(b))
	{
		pdist_discretize(a, PDIST_DISCRETIZE_BINS, &discrete);
		own_discrete = true;
		x = &discrete;
	}

	/* keep the pairs bounded by reducing the larger operand */
	if ((int64_t) x->n * y->n > PAIR_LIMIT)
	{
		if (x->n >= y->n)
		{
			pdist_copy(x, &capped);
			pdist_cap_support(&capped, PAIR_LIMIT / y->n);
			x = &capped;
		}
		else
		{
			pdist_copy(y, &capped);
			pdist_cap_support(&capped, PAIR_LIMIT / x->n);
			y = &capped;
		}
		own_capped = true;
	}

	pdist_init(&tmp, PDIST_NUMERIC, x->n * y->n,
			   x->sigma != NULL || y->sigma != NULL);
	k = 0;
	for (i = 0; i < x->n; i++)
	{
		double		xv = x->value[i];
		double		xs = (x->sigma != NULL) ? x->sigma[i] : 0.0;

		pdist_check_interrupts();
		for (j = 0; j < y->n; j++)
		{
			double		yv = y->value[j];
			double		ys = (y->sigma != NULL) ? y->sigma[j] : 0.0;
			double		v;
			double		s;

			if (multiply)
			{
				/* at most one of xs, ys is nonzero here */
				v = xv * yv;
				s = fabs(xv) * ys + fabs(yv) * xs;
			}
			else
			{
				v = xv + yv;
				s = hypot(xs, ys);
			}
			if (!isfinite(v) || !isfinite(s))
			{
				if (own_discrete)
					pdist_free_arrays(&discrete);
				if (own_capped)
					pdist_free_arrays(&capped);
				pdist_free_arrays(&tmp);
				return range_error(err);
			}
			tmp.value[k] = v;
			if (tmp.sigma != NULL)
				tmp.sigma[k] = s;
			tmp.prob[k] = x->prob[i] * y->prob[j];
			k++;
		}
	}

	if (own_discrete)
		pdist_free_arrays(&discrete);
	if (own_capped)
		pdist_free_arrays(&capped);

	if (!pdist_canonicalize_capped(&tmp, max_support, err))
		return false;
	*out = tmp;
	return true;
}

/*
 * pdist_add
 *		The distribution of A + B for independent numeric a and b, reduced
 *		to at most max_support components.
 */
bool
pdist_add(const Pdist *a, const Pdist *b, int max_support, Pdist *out,
		  PdistError *err)
{
	return combine(a, b, max_support, false, out, err);
}

/*
 * pdist_multiply
 *		The distribution of A * B for independent numeric a and b, reduced
 *		to at most max_support components.  Exact in the mean.
 */
bool
pdist_multiply(const Pdist *a, const Pdist *b, int max_support, Pdist *out,
			   PdistError *err)
{
	return combine(a, b, max_support, true, out, err);
}

/*
 * pdist_mix
 *		The mixture weight_a * A + (1 - weight_a) * B of two pdists of the
 *		same kind, weight_a in [0, 1].
 *
 * Weights 1 and 0 give exact copies.  A numeric mixture with more than
 * PDIST_MAX_OUTCOMES distinct components is reduced with
 * pdist_cap_support; a categorical one is an error.
 */
bool
pdist_mix(const Pdist *a, const Pdist *b, double weight_a, Pdist *out,
		  PdistError *err)
{
	Pdist		tmp;
	double		weight_b = 1.0 - weight_a;
	int			i;

	if (a->kind != b->kind)
		return kinds_differ_error(err);
	if (weight_a >= 1.0)
	{
		pdist_copy(a, out);
		return true;
	}
	if (weight_a <= 0.0)
	{
		pdist_copy(b, out);
		return true;
	}

	pdist_init(&tmp, a->kind, a->n + b->n,
			   a->sigma != NULL || b->sigma != NULL);
	for (i = 0; i < a->n + b->n; i++)
	{
		/* a and b may be the same value, so go by position */
		bool		from_a = (i < a->n);
		const Pdist *src = from_a ? a : b;
		int			k = from_a ? i : i - a->n;

		tmp.prob[i] = src->prob[k] * (from_a ? weight_a : weight_b);
		if (a->kind == PDIST_CATEGORICAL)
		{
			tmp.label[i] = src->label[k];
			tmp.label_len[i] = src->label_len[k];
		}
		else
		{
			tmp.value[i] = src->value[k];
			if (tmp.sigma != NULL)
				tmp.sigma[i] = (src->sigma != NULL) ? src->sigma[k] : 0.0;
		}
	}

	if (!pdist_canonicalize_capped(&tmp, PDIST_MAX_OUTCOMES, err))
		return false;
	*out = tmp;
	return true;
}

/* cumulative probabilities of a discrete d, the last exactly 1 */
static double *
cumulative(const Pdist *d)
{
	double	   *cum = pdist_alloc((size_t) d->n * sizeof(double));
	PdistSum	acc = {0.0, 0.0};
	int			i;

	for (i = 0; i < d->n; i++)
	{
		pdist_sum_add(&acc, d->prob[i]);
		cum[i] = pdist_sum_result(&acc);
	}
	cum[d->n - 1] = 1.0;
	return cum;
}

/*
 * pdist_interpolate
 *		The distribution a fraction t of the way from a to b.
 *
 * Numeric: displacement (quantile) interpolation, whose quantile function
 * is (1 - t) Qa + t Qb; between two normals that is the normal with
 * interpolated mean and stddev.  Continuous operands are discretised
 * first, so the result is discrete with at most max_support points.
 * Categorical: the mixture (1 - t) A + t B.  t = 0 and t = 1 give exact
 * copies of a and b.
 */
bool
pdist_interpolate(const Pdist *a, const Pdist *b, double t, int max_support,
				  Pdist *out, PdistError *err)
{
	Pdist		da;
	Pdist		db;
	Pdist		tmp;
	double	   *ca;
	double	   *cb;
	double		prev = 0.0;
	int			i = 0;
	int			j = 0;
	int			k = 0;

	if (a->kind != b->kind)
		return kinds_differ_error(err);
	if (a->kind == PDIST_CATEGORICAL)
		return pdist_mix(a, b, 1.0 - t, out, err);
	if (t <= 0.0)
	{
		pdist_copy(a, out);
		return true;
	}
	if (t >= 1.0)
	{
		pdist_copy(b, out);
		return true;
	}

	if (a->n == 1 && b->n == 1 && a->sigma != NULL && b->sigma != NULL)
	{
		double		mean = (1.0 - t) * a->value[0] + t * b->value[0];
		double		sd = (1.0 - t) * a->sigma[0] + t * b->sigma[0];

		if (!isfinite(mean) || !isfinite(sd))
			return range_error(err);
		pdist_init(out, PDIST_NUMERIC, 1, true);
		out->value[0] = mean;
		out->sigma[0] = sd;
		out->prob[0] = 1.0;
		return pdist_canonicalize(out, err);
	}

	/* copies for discrete operands, so both can be freed alike */
	pdist_discretize(a, PDIST_DISCRETIZE_BINS, &da);
	pdist_discretize(b, PDIST_DISCRETIZE_BINS, &db);
	ca = cumulative(&da);
	cb = cumulative(&db);

	/* one point per segment between consecutive cumulative breakpoints */
	pdist_init(&tmp, PDIST_NUMERIC, da.n + db.n, false);
	while (i < da.n && j < db.n)
	{
		double		next = (ca[i] < cb[j]) ? ca[i] : cb[j];

		if (next - prev > SEGMENT_EPSILON)
		{
			double		v = (1.0 - t) * da.value[i] + t * db.value[j];

			if (!isfinite(v))
			{
				pdist_free_arrays(&tmp);
				pdist_free(ca);
				pdist_free(cb);
				pdist_free_arrays(&da);
				pdist_free_arrays(&db);
				return range_error(err);
			}
			tmp.value[k] = v;
			tmp.prob[k] = next - prev;
			k++;
			prev = next;
		}
		if (ca[i] <= next)
			i++;
		if (cb[j] <= next)
			j++;
	}
	tmp.n = k;

	pdist_free(ca);
	pdist_free(cb);
	pdist_free_arrays(&da);
	pdist_free_arrays(&db);

	if (!pdist_canonicalize_capped(&tmp, max_support, err))
		return false;
	*out = tmp;
	return true;
}

/*
 * pdist_prob_greater
 *		P(A > B) for independent numeric a and b (0 for categorical input;
 *		the caller checks kinds).
 *
 * Exact over component pairs: the difference of a pair is a point or a
 * normal.  Two discrete operands take a merge walk instead of n * m pairs.
 */
double
pdist_prob_greater(const Pdist *a, const Pdist *b)
{
	PdistSum	acc = {0.0, 0.0};
	int			i;
	int			j;

	if (a->kind != PDIST_NUMERIC || b->kind != PDIST_NUMERIC)
		return 0.0;

	if (a->sigma == NULL && b->sigma == NULL)
	{
		PdistSum	below = {0.0, 0.0};	/* P(B < a->value[i]) */

		j = 0;
		for (i = 0; i < a->n; i++)
		{
			pdist_check_interrupts();
			while (j < b->n && b->value[j] < a->value[i])
			{
				pdist_sum_add(&below, b->prob[j]);
				j++;
			}
			pdist_sum_add(&acc, a->prob[i] * pdist_sum_result(&below));
		}
	}
	else
	{
		for (i = 0; i < a->n; i++)
		{
			double		av = a->value[i];
			double		as = (a->sigma != NULL) ? a->sigma[i] : 0.0;

			for (j = 0; j < b->n; j++)
			{
				double		bv = b->value[j];
				double		bs = (b->sigma != NULL) ? b->sigma[j] : 0.0;
				double		p;

				if (as == 0.0 && bs == 0.0)
					p = (av > bv) ? 1.0 : 0.0;
				else
				{
					/* halved, so neither difference nor stddev overflows */
					double		m = av * 0.5 - bv * 0.5;
					double		s = hypot(as * 0.5, bs * 0.5);
					double		z;

					if (s > 0.0)
						z = m / s;
					else
						z = (m > 0.0) ? INFINITY :
							((m < 0.0) ? -INFINITY : 0.0);
					p = 0.5 * erfc(-z * 0.70710678118654752440);
				}
				pdist_sum_add(&acc, a->prob[i] * b->prob[j] * p);
			}
		}
	}

	return pdist_sum_probability(&acc);
}

/*
 * pdist_prob_equal
 *		P(A = B) for independent a and b: only point masses (numeric) or
 *		labels (categorical) can coincide.  0 for different kinds.
 */
double
pdist_prob_equal(const Pdist *a, const Pdist *b)
{
	PdistSum	acc = {0.0, 0.0};
	int			i = 0;
	int			j = 0;

	if (a->kind != b->kind)
		return 0.0;

	if (a->kind == PDIST_CATEGORICAL)
	{
		for (i = 0; i < a->n; i++)
			pdist_sum_add(&acc, a->prob[i] *
						  pdist_prob_label(b, a->label[i], a->label_len[i]));
	}
	else
	{
		/* merge walk over the sorted values, point masses only */
		while (i < a->n && j < b->n)
		{
			if (a->sigma != NULL && a->sigma[i] > 0.0)
				i++;
			else if (b->sigma != NULL && b->sigma[j] > 0.0)
				j++;
			else if (a->value[i] < b->value[j])
				i++;
			else if (a->value[i] > b->value[j])
				j++;
			else
			{
				pdist_sum_add(&acc, a->prob[i] * b->prob[j]);
				i++;
				j++;
			}
		}
	}

	return pdist_sum_probability(&acc);
}
