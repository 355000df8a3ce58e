/*-------------------------------------------------------------------------
 *
 * pdist_math.c
 *	  Properties of one pdist: moments, probabilities, quantiles, entropy,
 *	  modes, reductions, sampling and a text histogram.
 *
 * Inputs are canonical (see pdist.h), so values are finite and sorted and
 * probabilities are positive and sum to 1.  Sums that feed user-visible
 * results are compensated (Neumaier), and intermediate quantities that
 * could overflow for values near DBL_MAX are computed on halved values.
 * Nothing here keeps state between calls.
 *
 * src/pdist/pdist_math.c
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdist.h"

/*
 * Quantiles of discrete distributions forgive this much relative rounding
 * in the cdf (a compensated sum is off by a few ulps at most): relative, so
 * that tiny probabilities are not rounded away.
 */
#define QUANTILE_SLACK		(16 * DBL_EPSILON)

/*
 * Quadrature for the entropy of a mixture: points on each side of a
 * component (every 10 / QUAD_HALF sigmas), and the density terms one
 * computation may evaluate before it coarsens.
 */
#define QUAD_HALF			40
#define ENTROPY_BUDGET		100000000.0

/* points one discretisation may produce before it uses fewer bins */
#define DISCRETIZE_BUDGET	1000000

/* histogram shape */
#define HIST_MAX_ROWS		40
#define HIST_CONT_BINS		20
#define HIST_LABEL_BYTES	30
#define HIST_LABEL_BUF		64

static const double SQRT1_2 = 0.70710678118654752440;	/* 1/sqrt(2) */
static const double LOG_SQRT_2PI = 0.91893853320467274178; /* log sqrt(2 pi) */
static const double SQRT_2PI = 2.50662827463100050242;
static const double LOG_SQRT_PI = 0.57236494292470008707;	/* lgamma(1/2) */
static const double PI = 3.14159265358979323846;

/* three-point Gauss-Legendre rule on [-1, 1] */
static const double GL_NODE[3] = {
	-0.77459666924148337704, 0.0, 0.77459666924148337704
};
static const double GL_WEIGHT[3] = {5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0};

/* component ranking for collapse and top_k */
typedef struct RankItem
{
	double		prob;
	int			index;
} RankItem;

/* precomputed terms of a mixture density */
typedef struct Mixture
{
	const Pdist *d;
	double	   *log_norm;		/* log(p_i / (sigma_i sqrt(2 pi))) */
	double		sigma_max;
} Mixture;

/* a quadrature point for the entropy of a mixture */
typedef struct QuadPoint
{
	double		x;
	double		spacing;		/* its component's; 0 to always keep it */
} QuadPoint;

typedef struct Interval
{
	double		lo;
	double		hi;
} Interval;

/*
 * The pieces of the Student t distribution with df degrees of freedom that
 * the quantile needs, all as logarithms so that neither the far tails nor
 * very large t underflow.  With r = t / sqrt(df), x = df / (df + t^2) =
 * 1 / (1 + r^2) and y = 1 - x.
 */
typedef struct StudentT
{
	double		df;
	double		a;				/* df / 2 */
	double		lbeta;			/* log B(df / 2, 1 / 2) */
} StudentT;

/* xoshiro256** state */
typedef struct Rng
{
	uint64_t	s[4];
} Rng;

typedef struct HistRow
{
	char		label[HIST_LABEL_BUF];
	int			bytes;
	int			width;			/* in characters, assuming UTF-8 */
	double		prob;
} HistRow;

static double normal_cdf(double z);
static double normal_upper(double z);
static double normal_pdf(double z);
static double normal_mass(double a, double b);
static double cdf_impl(const Pdist *d, double x, bool inclusive);
static int64_t double_to_ordered(double x);
static double ordered_to_double(int64_t k);
static double normal_quantile_lower(double p);
static double stirling_correction(double x);
static double log_gamma(double x);
static double log_beta_half(double a);
static double beta_fraction(double a, double b, double x);
static double log1p_square(double r);
static double t_log_tail(const StudentT *st, double t);
static double t_central(const StudentT *st, double t);
static double t_log_density(const StudentT *st, double t);
static double t_solve_tail(const StudentT *st, double q, double t0);
static double t_solve_central(const StudentT *st, double c, double t0);
static double t_cornish_fisher(double z, double df);
static void mixture_init(Mixture *m, const Pdist *d);
static double mixture_log_density(const Mixture *m, double x);
static double entropy_term(double log_f, double log_w);
static int	quad_point_cmp(const void *a, const void *b);
static int	interval_cmp(const void *a, const void *b);
static double quad_x(const Pdist *d, int i, int k, double step);
static int	thin_points(const QuadPoint *pts, int npts, double factor,
						QuadPoint *kept);
static double mixture_entropy(const Pdist *d);
static int	rank_cmp(const void *a, const void *b);
static RankItem *rank_outcomes(const Pdist *d);
static void keep_most_likely(const Pdist *d, double threshold, int k,
							 Pdist *out);
static uint64_t splitmix64(uint64_t *x);
static uint64_t rotl(uint64_t x, int k);
static void rng_seed(Rng *rng, uint64_t seed);
static uint64_t rng_next(Rng *rng);
static double rng_uniform(Rng *rng);
static double *cumulative_weights(const Pdist *d);
static int	pick_component(const double *cum, int n, double u);
static void hist_finish_label(HistRow *row);
static void hist_text_label(HistRow *row, const char *label, int len);
static int	hist_rows(const Pdist *d, HistRow *rows);
static double clean_zero(double x);
static double snap_edge(double x, double step);

/* Standard normal P(Z <= z); erfc keeps the lower tail accurate. */
static double
normal_cdf(double z)
{
	return 0.5 * erfc(-z * SQRT1_2);
}

/* Standard normal P(Z > z) */
static double
normal_upper(double z)
{
	return 0.5 * erfc(z * SQRT1_2);
}

static double
normal_pdf(double z)
{
	return exp(-0.5 * z * z - LOG_SQRT_2PI);
}

/* P(a < Z <= b), using whichever tail keeps precision */
static double
normal_mass(double a, double b)
{
	if (a >= 0.0)
		return normal_upper(a) - normal_upper(b);
	if (b <= 0.0)
		return normal_cdf(b) - normal_cdf(a);
	return 1.0 - normal_cdf(a) - normal_upper(b);
}

static double
clean_zero(double x)
{
	return (x == 0.0) ? 0.0 : x;
}

/*
 * A histogram bin edge computed as lo + step * i can miss zero by a few
 * ulps (printing -4.44089e-16); an edge that close to zero is zero.
 */
static double
snap_edge(double x, double step)
{
	return (fabs(x) < fabs(step) * 1e-9) ? 0.0 : x;
}

/*
 * pdist_mean
 *		The expectation of a numeric d.
 *
 * The mean lies between the smallest and the largest component value, so
 * the result is clamped there; that only ever corrects rounding, and an
 * overflow of p * v partial sums is avoided by summing halved values.
 */
double
pdist_mean(const Pdist *d)
{
	PdistSum	acc = {0.0, 0.0};
	double		lo = d->value[0];
	double		hi = d->value[0];
	double		mean;
	int			i;

	for (i = 0; i < d->n; i++)
	{
		pdist_sum_add(&acc, d->prob[i] * d->value[i]);
		if (d->value[i] < lo)
			lo = d->value[i];
		if (d->value[i] > hi)
			hi = d->value[i];
	}
	mean = pdist_sum_result(&acc);

	if (!isfinite(mean))
	{
		PdistSum	half = {0.0, 0.0};

		for (i = 0; i < d->n; i++)
			pdist_sum_add(&half, d->prob[i] * (d->value[i] * 0.5));
		mean = pdist_sum_result(&half);
		mean = (fabs(mean) > DBL_MAX / 2) ? copysign(DBL_MAX, mean) : mean * 2;
	}

	if (mean < lo)
		mean = lo;
	if (mean > hi)
		mean = hi;
	return clean_zero(mean);
}

/*
 * pdist_variance
 *		The variance of a numeric d: sum p_i (sigma_i^2 + (v_i - mean)^2).
 *
 * Two passes, so no cancellation.  The result is +Infinity when the true
 * variance exceeds the double range (values or stddevs beyond ~1e154).
 */
double
pdist_variance(const Pdist *d)
{
	PdistSum	acc = {0.0, 0.0};
	double		mean = pdist_mean(d);
	double		var;
	int			i;

	for (i = 0; i < d->n; i++)
	{
		double		dev = d->value[i] - mean;
		double		s = (d->sigma != NULL) ? d->sigma[i] : 0.0;

		pdist_sum_add(&acc, d->prob[i] * (s * s + dev * dev));
	}
	var = pdist_sum_result(&acc);
	return (var > 0.0) ? var : 0.0;
}

/*
 * pdist_prob_point
 *		P(X = x): the weight of the point mass at x, if any.
 *
 * Components are sorted by (value, sigma), so a point mass comes first
 * among components with its value.
 */
double
pdist_prob_point(const Pdist *d, double x)
{
	int			lo = 0;
	int			hi = d->n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (d->value[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < d->n && d->value[lo] == x &&
		(d->sigma == NULL || d->sigma[lo] == 0.0))
		return d->prob[lo];
	return 0.0;
}

/*
 * pdist_prob_label
 *		P(X = label) for a categorical d.
 */
double
pdist_prob_label(const Pdist *d, const char *label, int len)
{
	int			lo = 0;
	int			hi = d->n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = pdist_label_cmp(d->label[mid], d->label_len[mid],
										label, len);

		if (c == 0)
			return d->prob[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0.0;
}

/* P(X <= x) when inclusive, else P(X < x) */
static double
cdf_impl(const Pdist *d, double x, bool inclusive)
{
	PdistSum	acc = {0.0, 0.0};
	int			i;

	if (d->sigma == NULL)
	{
		int			k = 0;

		/* k = number of values <= x (or < x) */
		while (k < d->n &&
			   (inclusive ? d->value[k] <= x : d->value[k] < x))
			k++;
		if (k == d->n)
			return 1.0;			/* exactly, whatever the rounding */
		for (i = 0; i < k; i++)
			pdist_sum_add(&acc, d->prob[i]);
	}
	else
	{
		for (i = 0; i < d->n; i++)
		{
			if (d->sigma[i] == 0.0)
			{
				if (inclusive ? d->value[i] <= x : d->value[i] < x)
					pdist_sum_add(&acc, d->prob[i]);
			}
			else
				pdist_sum_add(&acc, d->prob[i] *
							  normal_cdf((x - d->value[i]) / d->sigma[i]));
		}
	}
	return pdist_sum_probability(&acc);
}

/*
 * pdist_cdf
 *		P(X <= x) for a numeric d.
 */
double
pdist_cdf(const Pdist *d, double x)
{
	return cdf_impl(d, x, true);
}

/*
 * pdist_cdf_below
 *		P(X < x) for a numeric d.
 */
double
pdist_cdf_below(const Pdist *d, double x)
{
	return cdf_impl(d, x, false);
}

/*
 * Upper tail P(X > x) (or P(X >= x) when inclusive), summed directly rather
 * than as 1 - cdf: the complement loses the digits of small tails, and
 * prints P(X > 2) of {1: 0.2, 2: 0.5, 3: 0.3} as 0.30000000000000004.
 */
static double
tail_impl(const Pdist *d, double x, bool inclusive)
{
	PdistSum	acc = {0.0, 0.0};

	for (int i = 0; i < d->n; i++)
	{
		if (d->sigma == NULL || d->sigma[i] == 0.0)
		{
			if (inclusive ? d->value[i] >= x : d->value[i] > x)
				pdist_sum_add(&acc, d->prob[i]);
		}
		else
			pdist_sum_add(&acc, d->prob[i] *
						  normal_cdf((d->value[i] - x) / d->sigma[i]));
	}
	return pdist_sum_probability(&acc);
}

/*
 * pdist_prob_above
 *		P(X > x) for a numeric d.
 */
double
pdist_prob_above(const Pdist *d, double x)
{
	return tail_impl(d, x, false);
}

/*
 * pdist_prob_at_or_above
 *		P(X >= x) for a numeric d.
 */
double
pdist_prob_at_or_above(const Pdist *d, double x)
{
	return tail_impl(d, x, true);
}

/*
 * Map doubles to integers in the same order (both zeros to 0), so that a
 * bisection over the integers visits every double between two bounds in at
 * most 64 steps.
 */
static int64_t
double_to_ordered(double x)
{
	uint64_t	bits;

	memcpy(&bits, &x, sizeof(bits));
	if (bits >> 63)
		return -(int64_t) (bits & UINT64_C(0x7FFFFFFFFFFFFFFF));
	return (int64_t) bits;
}

static double
ordered_to_double(int64_t k)
{
	uint64_t	bits;
	double		x;

	if (k < 0)
		bits = ((uint64_t) -k) | (UINT64_C(1) << 63);
	else
		bits = (uint64_t) k;
	memcpy(&x, &bits, sizeof(x));
	return x;
}

/*
 * pdist_quantile
 *		The smallest x with P(X <= x) >= p, for p in [0, 1].
 *
 * Discrete: the smallest support value whose cdf reaches p, forgiving
 * QUANTILE_SLACK of relative rounding; quantile(0) and quantile(1) are the
 * smallest and largest values.  With normal components the
 * quantiles 0 and 1 are infinite; otherwise a bisection over the doubles
 * themselves finds the smallest double whose cdf reaches p (to the
 * rounding of the cdf), so point masses inside a mixture are found
 * exactly.
 */
double
pdist_quantile(const Pdist *d, double p)
{
	int64_t		klo;
	int64_t		khi;
	int			i;

	if (d->sigma == NULL)
	{
		PdistSum	acc = {0.0, 0.0};

		/* the top of the support even if its probability is below epsilon */
		if (p >= 1.0)
			return d->value[d->n - 1];
		for (i = 0; i < d->n; i++)
		{
			pdist_sum_add(&acc, d->prob[i]);
			if (pdist_sum_result(&acc) >= p - p * QUANTILE_SLACK)
				return d->value[i];
		}
		return d->value[d->n - 1];
	}

	if (p <= 0.0)
		return -INFINITY;
	if (p >= 1.0)
		return INFINITY;

	if (d->n == 1)
	{
		double		x = d->value[0] + d->sigma[0] * pdist_normal_quantile(p);

		if (x > DBL_MAX)
			return DBL_MAX;
		if (x < -DBL_MAX)
			return -DBL_MAX;
		return clean_zero(x);
	}

	if (pdist_cdf(d, -DBL_MAX) >= p)
		return -DBL_MAX;
	klo = double_to_ordered(-DBL_MAX);
	khi = double_to_ordered(DBL_MAX);

	/* invariant: cdf(lo) < p and (as far as we know) cdf(hi) >= p */
	while ((uint64_t) khi - (uint64_t) klo > 1)
	{
		uint64_t	width = (uint64_t) khi - (uint64_t) klo;
		int64_t		kmid = klo + (int64_t) (width / 2);

		if (pdist_cdf(d, ordered_to_double(kmid)) >= p)
			khi = kmid;
		else
			klo = kmid;
	}
	return clean_zero(ordered_to_double(khi));
}

/*
 * Inverse standard normal cdf for 0 < p <= 0.5: Acklam's rational
 * approximation (relative error 1.15e-9) and one step of Halley's method
 * on erfc, which brings it to about machine precision.
 */
static double
normal_quantile_lower(double p)
{
	static const double a[6] = {
		-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
		-3.066479806614716e+01, 2.506628277459239e+00
	};
	static const double b[5] = {
		-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01,
		-1.328068155288572e+01
	};
	static const double c[6] = {
		-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
		4.374664141464968e+00, 2.938163982698783e+00
	};
	static const double dd[4] = {
		7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00
	};
	double		x;
	double		q;
	double		e;
	double		u;

	if (p < 0.02425)
	{
		q = sqrt(-2.0 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q +
			 c[5]) /
			((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1.0);
	}
	else
	{
		double		r;

		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r +
			 a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r +
			 1.0);
	}

	/*
	 * One Halley step on u = (Phi(x) - p) / phi(x).  Near the centre the
	 * error is taken from erf against the exact p - 0.5, which keeps
	 * relative precision for x near 0.  In the deep tail, where phi(x)
	 * underflows, Phi(x) / phi(x) is the Mills ratio, from its continued
	 * fraction.
	 */
	if (x < -37.0)
	{
		double		t = -x;
		double		f = t;
		int			k;

		for (k = 20; k >= 1; k--)
			f = t + k / f;
		u = 1.0 / f - exp(log(p) + 0.5 * x * x + LOG_SQRT_2PI);
	}
	else
	{
		if (p >= 0.25)
			e = 0.5 * erf(x * SQRT1_2) - (p - 0.5);
		else
			e = normal_cdf(x) - p;
		u = e * SQRT_2PI * exp(0.5 * x * x);
	}
	return x - u / (1.0 + 0.5 * x * u);
}

/*
 * pdist_normal_quantile
 *		Inverse of the standard normal cdf.
 *
 * The upper half is computed by symmetry from 1 - p, which is exact for
 * p >= 0.5, so both tails keep their relative precision.
 */
double
pdist_normal_quantile(double p)
{
	if (isnan(p))
		return p;
	if (p <= 0.0)
		return -INFINITY;
	if (p >= 1.0)
		return INFINITY;
	if (p > 0.5)
		return -normal_quantile_lower(1.0 - p);
	return normal_quantile_lower(p);
}

/*
 * lgamma(x) - ((x - 1/2) log x - x + log sqrt(2 pi)) for x >= 10, from
 * the Stirling series; the first omitted term is below 3e-17.
 */
static double
stirling_correction(double x)
{
	double		x2 = 1.0 / (x * x);

	return (1.0 / 12 + x2 * (-1.0 / 360 + x2 * (1.0 / 1260 +
			x2 * (-1.0 / 1680 + x2 * (1.0 / 1188 + x2 * (-691.0 / 360360 +
			x2 * (1.0 / 156))))))) / x;
}

/*
 * log Gamma(x) for x > 0.  Written here because lgamma() sets the global
 * signgam, and this code must not touch global state.
 */
static double
log_gamma(double x)
{
	double		prod = 1.0;

	while (x < 10.0)
	{
		prod *= x;
		x += 1.0;
	}
	return (x - 0.5) * log(x) - x + LOG_SQRT_2PI + stirling_correction(x) -
		log(prod);
}

/*
 * log B(a, 1/2).  For large a, log-gamma differences would cancel, so the
 * large-a branch combines the Stirling terms analytically (as R's lbeta
 * does).
 */
static double
log_beta_half(double a)
{
	if (a >= 10.0)
	{
		double		corr = stirling_correction(a) -
			stirling_correction(a + 0.5);

		return LOG_SQRT_PI + corr + 0.5 - 0.5 * log(a + 0.5) +
			(a - 0.5) * log1p(-0.5 / (a + 0.5));
	}
	return log_gamma(a) + LOG_SQRT_PI - log_gamma(a + 0.5);
}

/* Continued fraction for the incomplete beta function (modified Lentz). */
static double
beta_fraction(double a, double b, double x)
{
	const double tiny = 1e-300;
	double		qab = a + b;
	double		qap = a + 1.0;
	double		qam = a - 1.0;
	double		c = 1.0;
	double		d = 1.0 - qab * x / qap;
	double		h;
	int			m;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	h = d;
	for (m = 1; m <= 1000000; m++)
	{
		double		m2 = 2.0 * m;
		double		aa;
		double		del;

		aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		h *= d * c;

		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-16)
			break;
	}
	return h;
}

/* log(1 + r^2) without overflowing r^2 */
static double
log1p_square(double r)
{
	if (r > 1e150)
		return 2.0 * log(r);
	return log1p(r * r);
}

/* log P(T > t), t >= 0 */
static double
t_log_tail(const StudentT *st, double t)
{
	double		r = t / sqrt(st->df);
	double		log_x = -log1p_square(r);
	double		log_y = (r > 0.0) ? -log1p_square(1.0 / r) : -INFINITY;
	double		x = exp(log_x);
	double		y = exp(log_y);

	if (y <= 0.0)
		return log(0.5);
	if (x <= (st->a + 1.0) / (st->a + 2.5))
	{
		/* I_x(a, 1/2) directly, front factor in logs */
		return log(0.5) + st->a * log_x + 0.5 * log_y - st->lbeta -
			log(st->a) + log(beta_fraction(st->a, 0.5, x));
	}
	/* near the centre: 1 - I_y(1/2, a) */
	return log(0.5) + log1p(-exp(0.5 * log_y + st->a * log_x - st->lbeta -
								 log(0.5)) * beta_fraction(0.5, st->a, y));
}

/* P(0 < T < t) = I_y(1/2, a) / 2, for t small enough that y is */
static double
t_central(const StudentT *st, double t)
{
	double		r = t / sqrt(st->df);
	double		log_x = -log1p_square(r);
	double		log_y = (r > 0.0) ? -log1p_square(1.0 / r) : -INFINITY;
	double		x = exp(log_x);
	double		y = exp(log_y);

	if (y <= 0.0)
		return 0.0;
	if (y <= 1.5 / (st->a + 2.5))
		return 0.5 * exp(0.5 * log_y + st->a * log_x - st->lbeta - log(0.5)) *
			beta_fraction(0.5, st->a, y);
	return 0.5 * (1.0 - exp(st->a * log_x + 0.5 * log_y - st->lbeta -
							log(st->a)) * beta_fraction(st->a, 0.5, x));
}

/* log of the t density */
static double
t_log_density(const StudentT *st, double t)
{
	return -st->lbeta - 0.5 * log(st->df) -
		0.5 * (st->df + 1.0) * log1p_square(t / sqrt(st->df));
}

/*
 * Solve P(T > t) = q for t > 0 by Newton's method on log P against log t,
 * which is nearly linear in the tails (P ~ C t^-df), safeguarded by a
 * bracket.
 */
static double
t_solve_tail(const StudentT *st, double q, double t0)
{
	double		log_q = log(q);
	double		u = log(t0);
	double		lo = -INFINITY;
	double		hi = INFINITY;
	int			iter;

	for (iter = 0; iter < 200; iter++)
	{
		double		t = exp(u);
		double		ls = t_log_tail(st, t);
		double		h = ls - log_q;	/* decreases with u */
		double		slope;
		double		next;

		if (h == 0.0 || isinf(t))
			break;
		if (h > 0.0)
			lo = u;
		else
			hi = u;

		slope = -exp(u + t_log_density(st, t) - ls);
		next = u - h / slope;
		if (!(next > lo && next < hi))
		{
			if (isinf(hi))
				next = lo + 2.0;
			else if (isinf(lo))
				next = hi - 2.0;
			else
				next = lo + 0.5 * (hi - lo);
		}
		if (fabs(next - u) <= 1e-15 * fmax(1.0, fabs(next)))
		{
			u = next;
			break;
		}
		u = next;
	}
	return exp(u);
}

/* Solve P(0 < T < t) = c for t > 0 (c up to 1/4) by safeguarded Newton. */
static double
t_solve_central(const StudentT *st, double c, double t0)
{
	double		t = t0;
	double		lo = 0.0;
	double		hi = INFINITY;
	int			iter;

	for (iter = 0; iter < 200; iter++)
	{
		double		g = t_central(st, t) - c;	/* increases with t */
		double		next;

		if (g == 0.0)
			break;
		if (g < 0.0)
			lo = t;
		else
			hi = t;

		next = t - g / exp(t_log_density(st, t));
		if (!(next > lo && next < hi))
		{
			if (isinf(hi))
				next = 2.0 * lo + 1.0;
			else
				next = lo + 0.5 * (hi - lo);
		}
		if (fabs(next - t) <= 1e-15 * next)
		{
			t = next;
			break;
		}
		t = next;
	}
	return t;
}

/* Cornish-Fisher expansion of the t quantile around the normal one */
static double
t_cornish_fisher(double z, double df)
{
	double		z2 = z * z;
	double		g1 = z * (z2 + 1.0) / 4.0;
	double		g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
	double		g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) /
		384.0;
	double		g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) *
						  z2 - 945.0) / 92160.0;

	return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}

/*
 * pdist_student_t_quantile
 *		Inverse cdf of Student's t with df > 0 degrees of freedom (real).
 *
 * df = 1 and 2 have closed forms.  For df > 1e5 the Cornish-Fisher
 * expansion to 1/df^4 is within 1e-12 relative even in the far tails, and
 * better than the continued fraction, which converges poorly there.
 * Otherwise Newton's method solves on the tail P(T > t) or, near the
 * centre, on P(0 < T < t), whichever keeps relative precision; both come
 * from the regularised incomplete beta function.  Returns NaN for
 * df <= 0 or NaN arguments.
 */
double
pdist_student_t_quantile(double p, double df)
{
	StudentT	st;
	double		q;				/* tail probability, <= 0.5 */
	double		sign;
	double		t0;

	if (isnan(p) || isnan(df) || !(df > 0.0))
		return NAN;
	if (p <= 0.0)
		return -INFINITY;
	if (p >= 1.0)
		return INFINITY;
	if (p == 0.5)
		return 0.0;

	if (p < 0.5)
	{
		q = p;
		sign = -1.0;
	}
	else
	{
		q = 1.0 - p;			/* exact for p >= 0.5 */
		sign = 1.0;
	}

	/* 0.5 - q is exact for q >= 0.25, where the central forms use it */
	if (df == 1.0)
		return sign * ((q < 0.25) ? 1.0 / tan(PI * q) : tan(PI * (0.5 - q)));
	if (df == 2.0)
		return sign * 2.0 * (0.5 - q) / sqrt(2.0 * q * (1.0 - q));

	t0 = t_cornish_fisher(-pdist_normal_quantile(q), df);
	if (df > 1e5)
		return sign * t0;
	if (!(t0 > 0.0) || !isfinite(t0))
		t0 = 1.0;

	st.df = df;
	st.a = 0.5 * df;
	st.lbeta = log_beta_half(st.a);
	if (q < 0.25)
		return sign * t_solve_tail(&st, q, t0);
	return sign * t_solve_central(&st, 0.5 - q, t0);
}

/*
 * Prepare the density of a mixture of normals (every sigma > 0).
 */
static void
mixture_init(Mixture *m, const Pdist *d)
{
	int			i;

	m->d = d;
	m->log_norm = pdist_alloc((size_t) d->n * sizeof(double));
	m->sigma_max = 0.0;
	for (i = 0; i < d->n; i++)
	{
		m->log_norm[i] = log(d->prob[i]) - log(d->sigma[i]) - LOG_SQRT_2PI;
		if (d->sigma[i] > m->sigma_max)
			m->sigma_max = d->sigma[i];
	}
}

/*
 * log f(x) for a mixture of normals, by log-sum-exp so that neither very
 * narrow nor very wide components overflow.  Components more than 40
 * sigma_max away contribute less than exp(-800) of their peak and are
 * skipped, using the sorted values.
 */
static double
mixture_log_density(const Mixture *m, double x)
{
	const Pdist *d = m->d;
	double		reach = 40.0 * m->sigma_max;
	double		from = x - reach;
	double		to = x + reach;
	double		max = -INFINITY;
	double		sum = 0.0;
	int			lo = 0;
	int			hi = d->n;
	int			first;
	int			i;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (d->value[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;

	for (i = first; i < d->n && d->value[i] <= to; i++)
	{
		double		z = (x - d->value[i]) / d->sigma[i];
		double		l = m->log_norm[i] - 0.5 * z * z;

		if (l > max)
			max = l;
	}
	if (max == -INFINITY)
		return -INFINITY;
	for (i = first; i < d->n && d->value[i] <= to; i++)
	{
		double		z = (x - d->value[i]) / d->sigma[i];

		sum += exp(m->log_norm[i] - 0.5 * z * z - max);
	}
	return max + log(sum);
}

/* -w f log f, from log f and log w, without overflowing f */
static double
entropy_term(double log_f, double log_w)
{
	if (log_f == -INFINITY)
		return 0.0;
	return -exp(log_f + log_w) * log_f;
}

static int
quad_point_cmp(const void *a, const void *b)
{
	double		xa = ((const QuadPoint *) a)->x;
	double		xb = ((const QuadPoint *) b)->x;

	return (xa > xb) - (xa < xb);
}

static int
interval_cmp(const void *a, const void *b)
{
	double		la = ((const Interval *) a)->lo;
	double		lb = ((const Interval *) b)->lo;

	return (la > lb) - (la < lb);
}

/* quadrature point k (in -QUAD_HALF..QUAD_HALF) of component i */
static double
quad_x(const Pdist *d, int i, int k, double step)
{
	return d->value[i] + ((double) k * step) * d->sigma[i];
}

/*
 * Keep the sorted points that are at least factor times half their own
 * component's spacing past the last kept one, and every point of spacing
 * 0.  Returns how many were kept.
 */
static int
thin_points(const QuadPoint *pts, int npts, double factor, QuadPoint *kept)
{
	int			nkept = 0;
	int			i;

	for (i = 0; i < npts; i++)
	{
		if (nkept > 0 && pts[i].x == kept[nkept - 1].x)
			continue;
		if (nkept > 0 &&
			pts[i].x - kept[nkept - 1].x < 0.5 * factor * pts[i].spacing)
			continue;
		kept[nkept++] = pts[i];
	}
	return nkept;
}

/*
 * Differential entropy of a mixture of normals (n >= 2, every sigma > 0).
 *
 * Each component contributes quadrature points every 10 / QUAD_HALF
 * sigmas over its window mean +- 10 sigma, so every component is resolved
 * at its own scale however different the scales are; outside the windows
 * the density is below exp(-50) of every component's peak.  The sorted
 * points are then thinned: a point is dropped when it is closer than half
 * its own component's spacing to the last kept one.  Where several components
 * overlap this leaves the finest of them in charge, and every gap is at
 * most 1.5 spacings of the finest component covering it.  Each gap inside
 * the union of the windows (whose ends are always kept) is integrated by
 * Gauss-Legendre.  If the gaps times the components would exceed
 * ENTROPY_BUDGET density terms, the thinning coarsens until they do not,
 * trading accuracy for bounded time.
 *
 * The caller centres d first (entropy does not depend on location), so the
 * points of narrow components are not lost to the precision of their mean.
 */
static double
mixture_entropy(const Pdist *d)
{
	Mixture		mix;
	QuadPoint  *pts;
	QuadPoint  *kept;
	Interval   *win;
	PdistSum	acc = {0.0, 0.0};
	double		step = 10.0 / QUAD_HALF;
	double		factor;
	int			npts = 0;
	int			nkept;
	int			nwin;
	int			i;
	int			k;
	int			u;

	/* n <= PDIST_MAX_OUTCOMES, so these sizes cannot overflow */
	pts = pdist_alloc((size_t) d->n * (2 * QUAD_HALF + 3) * sizeof(QuadPoint));
	win = pdist_alloc((size_t) d->n * sizeof(Interval));
	for (i = 0; i < d->n; i++)
	{
		for (k = -QUAD_HALF; k <= QUAD_HALF; k++)
		{
			double		x = quad_x(d, i, k, step);

			if (!isfinite(x))
				continue;
			pts[npts].x = x;
			pts[npts].spacing = step * d->sigma[i];
			npts++;
		}
		win[i].lo = quad_x(d, i, -QUAD_HALF, step);
		win[i].hi = quad_x(d, i, QUAD_HALF, step);
	}

	/* union of the windows, in place; its ends are points always kept */
	qsort(win, (size_t) d->n, sizeof(Interval), interval_cmp);
	nwin = 0;
	for (i = 0; i < d->n; i++)
	{
		if (nwin > 0 && win[i].lo <= win[nwin - 1].hi)
		{
			if (win[i].hi > win[nwin - 1].hi)
				win[nwin - 1].hi = win[i].hi;
		}
		else
			win[nwin++] = win[i];
	}
	for (i = 0; i < nwin; i++)
	{
		if (isfinite(win[i].lo))
		{
			pts[npts].x = win[i].lo;
			pts[npts++].spacing = 0.0;
		}
		if (isfinite(win[i].hi))
		{
			pts[npts].x = win[i].hi;
			pts[npts++].spacing = 0.0;
		}
	}
	qsort(pts, (size_t) npts, sizeof(QuadPoint), quad_point_cmp);

	kept = pdist_alloc((size_t) npts * sizeof(QuadPoint));
	factor = 1.0;
	nkept = thin_points(pts, npts, factor, kept);
	while (3.0 * nkept * (double) d->n > ENTROPY_BUDGET && nkept > 2)
	{
		pdist_check_interrupts();
		factor *= 2.0;
		nkept = thin_points(pts, npts, factor, kept);
	}

	mixture_init(&mix, d);

	/*
	 * Three-point Gauss-Legendre on each gap: exact to degree 5, and it
	 * never evaluates the density at a gap's ends, where a much narrower
	 * component's window may end with a density that is negligible in mass
	 * but huge next to the gap's own.
	 */
	u = 0;
	for (i = 0; i + 1 < nkept; i++)
	{
		double		x0 = kept[i].x;
		double		x1 = kept[i + 1].x;
		double		half = x1 * 0.5 - x0 * 0.5;
		double		mid = x0 * 0.5 + x1 * 0.5;
		double		log_half;

		if ((i & 1023) == 0)
			pdist_check_interrupts();
		while (u < nwin && win[u].hi < mid)
			u++;
		if (u >= nwin || win[u].lo > mid || !(half > 0.0))
			continue;			/* a gap between windows */

		log_half = log(half);
		for (k = 0; k < 3; k++)
		{
			double		x = mid + GL_NODE[k] * half;

			pdist_sum_add(&acc, entropy_term(mixture_log_density(&mix, x),
											 log_half + log(GL_WEIGHT[k])));
		}
	}

	pdist_free(mix.log_norm);
	pdist_free(kept);
	pdist_free(win);
	pdist_free(pts);
	return pdist_sum_result(&acc);
}

/*
 * pdist_entropy
 *		Entropy of d in the given logarithm base.
 *
 * Shannon entropy for discrete and categorical d; differential entropy
 * (which may be negative) for a normal or a mixture of normals.  A mixture
 * of point masses and normals has no entropy in either sense.
 */
bool
pdist_entropy(const Pdist *d, double base, double *result, PdistError *err)
{
	double		h;
	int			i;

	if (!(base > 0.0) || base == 1.0 || !isfinite(base))
	{
		err->status = PDIST_ERR_ARGUMENT;
		snprintf(err->message, sizeof(err->message),
				 "logarithm base must be positive and not 1");
		err->detail[0] = '\0';
		err->hint[0] = '\0';
		return false;
	}

	if (d->kind == PDIST_CATEGORICAL || d->sigma == NULL)
	{
		PdistSum	acc = {0.0, 0.0};

		for (i = 0; i < d->n; i++)
			pdist_sum_add(&acc, -d->prob[i] * log(d->prob[i]));
		h = pdist_sum_result(&acc);
		if (h < 0.0)
			h = 0.0;
	}
	else
	{
		for (i = 0; i < d->n; i++)
		{
			if (d->sigma[i] == 0.0)
			{
				err->status = PDIST_ERR_KIND;
				snprintf(err->message, sizeof(err->message),
						 "entropy is undefined for a pdist that mixes point masses and normal components");
				err->detail[0] = '\0';
				snprintf(err->hint, sizeof(err->hint),
						 "Use ttpdb.discretize() to make it discrete first.");
				return false;
			}
		}
		if (d->n == 1)
			h = log(d->sigma[0]) + 0.5 * (1.0 + log(2.0 * PI));
		else
		{
			Pdist		centred;
			int			narrowest = 0;

			/*
			 * Entropy does not depend on location: put the narrowest
			 * component at zero, where its quadrature points are finest.
			 */
			for (i = 1; i < d->n; i++)
				if (d->sigma[i] < d->sigma[narrowest])
					narrowest = i;
			pdist_affine(d, 1.0, -d->value[narrowest], &centred);
			for (i = 0; i < centred.n; i++)
			{
				/* quadrature points 0.25 sigma apart must be distinct */
				if (centred.sigma[i] * 0.25 <
					64.0 * DBL_EPSILON * fabs(centred.value[i]))
				{
					pdist_set_error(err, PDIST_ERR_ARGUMENT,
									"entropy of this mixture cannot be computed in double precision",
									"A component's standard deviation is too small for its distance from the others.",
									"Use ttpdb.discretize() to make it discrete first.");
					return false;
				}
			}
			h = mixture_entropy(&centred);
			pdist_free(centred.prob);
			pdist_free(centred.value);
			pdist_free(centred.sigma);
		}
	}

	*result = clean_zero(h / log(base));
	return true;
}

/*
 * pdist_mode_index
 *		Index of the most likely outcome; ties go to the lowest index.
 *
 * Point masses outweigh any density, so with normals present the mode is
 * the heaviest point mass if there is one, and otherwise the component
 * whose mean has the highest mixture density.
 */
int
pdist_mode_index(const Pdist *d)
{
	bool		any_point = false;
	int			best = -1;
	int			i;

	if (d->kind == PDIST_NUMERIC && d->sigma != NULL)
	{
		for (i = 0; i < d->n; i++)
		{
			if (d->sigma[i] == 0.0)
			{
				any_point = true;
				break;
			}
		}
		if (!any_point)
		{
			Mixture		mix;
			double		best_density = -INFINITY;

			mixture_init(&mix, d);
			for (i = 0; i < d->n; i++)
			{
				double		l;

				pdist_check_interrupts();
				l = mixture_log_density(&mix, d->value[i]);

				if (best < 0 || l > best_density)
				{
					best = i;
					best_density = l;
				}
			}
			pdist_free(mix.log_norm);
			return best;
		}
	}

	for (i = 0; i < d->n; i++)
	{
		if (any_point && d->sigma[i] != 0.0)
			continue;
		if (best < 0 || d->prob[i] > d->prob[best])
			best = i;
	}
	return best;
}

/*
 * pdist_mode_value
 *		The value of the most likely outcome of a numeric d.
 */
double
pdist_mode_value(const Pdist *d)
{
	return d->value[pdist_mode_index(d)];
}


/* most likely first; among equals, canonical order */
static int
rank_cmp(const void *a, const void *b)
{
	const RankItem *ra = (const RankItem *) a;
	const RankItem *rb = (const RankItem *) b;

	if (ra->prob != rb->prob)
		return (ra->prob > rb->prob) ? -1 : 1;
	return (ra->index > rb->index) - (ra->index < rb->index);
}

static RankItem *
rank_outcomes(const Pdist *d)
{
	RankItem   *items = pdist_alloc((size_t) d->n * sizeof(RankItem));
	int			i;

	for (i = 0; i < d->n; i++)
	{
		items[i].prob = d->prob[i];
		items[i].index = i;
	}
	qsort(items, (size_t) d->n, sizeof(RankItem), rank_cmp);
	return items;
}

/*
 * The most likely outcomes of d: as many as reach cumulative probability
 * threshold (when k <= 0) or the k most likely, renormalised and canonical.
 * Continuous d is discretised first.
 */
static void
keep_most_likely(const Pdist *d, double threshold, int k, Pdist *out)
{
	RankItem   *items;
	bool	   *keep;
	PdistSum	acc = {0.0, 0.0};
	PdistError	err;
	double		total;
	int			count;
	int			i;
	int			j;

	if (pdist_is_continuous(d))
	{
		Pdist		discrete;

		pdist_discretize(d, PDIST_DISCRETIZE_BINS, &discrete);
		keep_most_likely(&discrete, threshold, k, out);
		pdist_free_arrays(&discrete);
		return;
	}

	items = rank_outcomes(d);
	if (k > 0)
	{
		count = (k < d->n) ? k : d->n;
		for (i = 0; i < count; i++)
			pdist_sum_add(&acc, items[i].prob);
	}
	else
	{
		count = 0;
		while (count < d->n)
		{
			pdist_sum_add(&acc, items[count].prob);
			count++;
			if (pdist_sum_result(&acc) >= threshold - threshold * QUANTILE_SLACK)
				break;
		}
	}
	total = pdist_sum_result(&acc);

	keep = pdist_alloc((size_t) d->n * sizeof(bool));
	for (i = 0; i < count; i++)
		keep[items[i].index] = true;

	pdist_init(out, d->kind, count, false);
	for (i = 0, j = 0; i < d->n; i++)
	{
		if (!keep[i])
			continue;
		out->prob[j] = d->prob[i] / total;
		if (d->kind == PDIST_CATEGORICAL)
		{
			out->label[j] = d->label[i];
			out->label_len[j] = d->label_len[i];
		}
		else
			out->value[j] = d->value[i];
		j++;
	}
	pdist_free(keep);
	pdist_free(items);

	/* a subset of canonical outcomes, renormalised: this cannot fail */
	(void) pdist_canonicalize(out, &err);
}

/*
 * pdist_collapse
 *		The smallest set of most likely outcomes whose probability reaches
 *		threshold, renormalised.  Ties in probability keep the outcome that
 *		comes first in canonical order.  Works for both kinds; categorical
 *		labels point at d's bytes.
 */
void
pdist_collapse(const Pdist *d, double threshold, Pdist *out)
{
	keep_most_likely(d, threshold, 0, out);
}

/*
 * pdist_top_k
 *		The k most likely outcomes (k >= 1), renormalised.
 */
void
pdist_top_k(const Pdist *d, int k, Pdist *out)
{
	keep_most_likely(d, 1.0, (k < 1) ? 1 : k, out);
}

/*
 * pdist_discretize
 *		A discrete approximation of d in out (owned).
 *
 * Point masses stay.  Each normal(mu, sigma) becomes `bins` point masses:
 * equal-width bins over mu +- 4 sigma whose outer bins absorb the tails,
 * each point at the normal's conditional mean within its bin and weighted
 * by the bin's mass, which keeps the mean.  If the normals times bins would
 * exceed DISCRETIZE_BUDGET points, each normal gets fewer bins (at least
 * 2); the result is capped to PDIST_MAX_OUTCOMES either way.  A point that
 * would lie beyond the double range (sigma near DBL_MAX) is clamped to it.
 * Discrete and categorical d are copied unchanged.
 */
void
pdist_discretize(const Pdist *d, int bins, Pdist *out)
{
	Pdist		tmp;
	PdistError	err;
	int			normals = 0;
	int			filled = 0;
	int			i;
	int			j;

	if (!pdist_is_continuous(d))
	{
		pdist_copy(d, out);
		return;
	}

	if (bins < 2)
		bins = 2;
	if (bins > PDIST_MAX_OUTCOMES)
		bins = PDIST_MAX_OUTCOMES;
	for (i = 0; i < d->n; i++)
		if (d->sigma[i] > 0.0)
			normals++;
	if ((int64_t) normals * bins > DISCRETIZE_BUDGET)
	{
		pdist_check_interrupts();
		bins = DISCRETIZE_BUDGET / normals;
		if (bins < 2)
			bins = 2;
	}

	pdist_init(&tmp, PDIST_NUMERIC, (d->n - normals) + normals * bins, false);
	for (i = 0; i < d->n; i++)
	{
		double		mu = d->value[i];
		double		sigma = d->sigma[i];

		if (sigma == 0.0)
		{
			tmp.value[filled] = mu;
			tmp.prob[filled] = d->prob[i];
			filled++;
			continue;
		}
		for (j = 0; j < bins; j++)
		{
			double		a = (j == 0) ? -INFINITY : -4.0 + 8.0 * j / bins;
			double		b = (j == bins - 1) ?
				INFINITY : -4.0 + 8.0 * (j + 1) / bins;
			double		mass = normal_mass(a, b);
			double		m;
			double		x;

			if (!(mass > 0.0))
				continue;
			/* standardised conditional mean, kept inside its bin */
			m = (normal_pdf(a) - normal_pdf(b)) / mass;
			if (m < a)
				m = a;
			if (m > b)
				m = b;
			x = mu + sigma * m;
			if (x > DBL_MAX)
				x = DBL_MAX;
			if (x < -DBL_MAX)
				x = -DBL_MAX;
			tmp.value[filled] = x;
			tmp.prob[filled] = d->prob[i] * mass;
			filled++;
		}
	}
	tmp.n = filled;

	/*
	 * The weights sum to 1 up to rounding and the values are finite, so
	 * this cannot fail.
	 */
	(void) pdist_canonicalize_capped(&tmp, PDIST_MAX_OUTCOMES, &err);
	*out = tmp;
}

/*
 * pdist_cap_support
 *		Reduce an owned canonical numeric d to at most max_support
 *		components, in place.
 *
 * [min value, max value] is cut into max_support equal-width bins and the
 * components in each bin merge into one, at their weighted mean with their
 * total weight, so the mean of d is preserved exactly (up to rounding).
 * A bin of point masses becomes a point mass, which loses the variance
 * within the bin; a bin with a normal in it becomes a normal with the
 * bin's variance (moment matching), so a mixture keeps its variance.
 * Computations use halved values so that nothing overflows; a merged
 * stddev beyond DBL_MAX is clamped to it.
 */
void
pdist_cap_support(Pdist *d, int max_support)
{
	double		vmin;
	double		half_range;
	int			n = d->n;
	int			out = 0;
	int			i;

	if (max_support < 1)
		max_support = 1;
	if (d->kind != PDIST_NUMERIC || n <= max_support)
		return;

	vmin = d->value[0];
	half_range = d->value[n - 1] * 0.5 - vmin * 0.5;

	i = 0;
	while (i < n)
	{
		int			bin = 0;
		int			start = i;
		int			end;
		bool		all_points = true;
		PdistSum	wacc = {0.0, 0.0};
		PdistSum	vacc = {0.0, 0.0};
		double		w;
		double		value;
		double		sd = 0.0;
		int			k;

		/* components are sorted, so each bin is a run */
		for (end = start; end < n; end++)
		{
			double		f = 0.0;
			int			b;

			if (half_range > 0.0)
				f = (d->value[end] * 0.5 - vmin * 0.5) / half_range *
					max_support;
			if (f >= max_support)
				b = max_support - 1;
			else if (f > 0.0)
				b = (int) f;
			else
				b = 0;
			if (end == start)
				bin = b;
			else if (b != bin)
				break;
		}
		i = end;

		for (k = start; k < end; k++)
		{
			pdist_sum_add(&wacc, d->prob[k]);
			if (d->sigma != NULL && d->sigma[k] > 0.0)
				all_points = false;
		}
		w = pdist_sum_result(&wacc);

		if (end - start == 1)
		{
			value = d->value[start];
			if (d->sigma != NULL)
				sd = d->sigma[start];
		}
		else
		{
			double		scale = 0.0;

			for (k = start; k < end; k++)
				pdist_sum_add(&vacc, (d->prob[k] / w) * d->value[k]);
			value = pdist_sum_result(&vacc);
			/* the mean of a bin lies within it */
			if (value < d->value[start])
				value = d->value[start];
			if (value > d->value[end - 1])
				value = d->value[end - 1];

			if (!all_points)
			{
				PdistSum	sacc = {0.0, 0.0};

				for (k = start; k < end; k++)
				{
					double		h = fabs(d->value[k] * 0.5 - value * 0.5);
					double		s = d->sigma[k] * 0.5;

					if (h > scale)
						scale = h;
					if (s > scale)
						scale = s;
				}
				for (k = start; k < end; k++)
				{
					double		h = (d->value[k] * 0.5 - value * 0.5) / scale;
					double		s = d->sigma[k] * 0.5 / scale;

					pdist_sum_add(&sacc, (d->prob[k] / w) * (s * s + h * h));
				}
				sd = scale * sqrt(pdist_sum_result(&sacc));
				sd = (sd > DBL_MAX / 2) ? DBL_MAX : 2.0 * sd;
			}
		}

		d->value[out] = clean_zero(value);
		d->prob[out] = w;
		if (d->sigma != NULL)
			d->sigma[out] = sd;
		out++;
	}
	d->n = out;

	/* renormalise, as canonical form wants (and so no weight exceeds 1) */
	{
		PdistSum	tacc = {0.0, 0.0};
		double		total;

		for (i = 0; i < d->n; i++)
			pdist_sum_add(&tacc, d->prob[i]);
		total = pdist_sum_result(&tacc);
		for (i = 0; i < d->n; i++)
			d->prob[i] /= total;
	}

	if (d->sigma != NULL)
	{
		bool		any_sigma = false;

		for (i = 0; i < d->n; i++)
			if (d->sigma[i] > 0.0)
				any_sigma = true;
		if (!any_sigma)
			d->sigma = NULL;
	}
}

/* SplitMix64, to seed xoshiro256** from one 64-bit seed */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static void
rng_seed(Rng *rng, uint64_t seed)
{
	int			i;

	for (i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&seed);
}

/* xoshiro256** (Blackman and Vigna) */
static uint64_t
rng_next(Rng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* uniform in [0, 1) from the top 53 bits */
static double
rng_uniform(Rng *rng)
{
	return (double) (rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

static double *
cumulative_weights(const Pdist *d)
{
	double	   *cum = pdist_alloc((size_t) d->n * sizeof(double));
	double		total = 0.0;
	int			i;

	for (i = 0; i < d->n; i++)
	{
		total += d->prob[i];
		cum[i] = total;
	}
	return cum;
}

/* the first component whose cumulative weight exceeds u * total */
static int
pick_component(const double *cum, int n, double u)
{
	double		target = u * cum[n - 1];
	int			lo = 0;
	int			hi = n - 1;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (cum[mid] > target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * pdist_sample_values
 *		count draws from a numeric d into out, determined by seed.
 *
 * The generator is xoshiro256** seeded by SplitMix64, so the stream is the
 * same on every platform; a normal component adds sigma times a Box-Muller
 * deviate (which depends on the platform's log and cos only in the last
 * bits).  Draws beyond the double range are clamped to it.
 */
void
pdist_sample_values(const Pdist *d, uint64_t seed, int count, double *out)
{
	Rng			rng;
	double	   *cum;
	int			i;

	if (count <= 0)
		return;
	rng_seed(&rng, seed);
	cum = cumulative_weights(d);
	for (i = 0; i < count; i++)
	{
		int			c = pick_component(cum, d->n, rng_uniform(&rng));
		double		x = d->value[c];

		if (d->sigma != NULL && d->sigma[c] > 0.0)
		{
			double		u1 = rng_uniform(&rng);
			double		u2 = rng_uniform(&rng);
			double		z = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * PI * u2);

			x += d->sigma[c] * z;
			if (x > DBL_MAX)
				x = DBL_MAX;
			if (x < -DBL_MAX)
				x = -DBL_MAX;
		}
		out[i] = clean_zero(x);
	}
	pdist_free(cum);
}

/*
 * pdist_sample_indexes
 *		count draws of outcome indexes (either kind) into out, determined by
 *		seed, with the same component choice as pdist_sample_values.
 */
void
pdist_sample_indexes(const Pdist *d, uint64_t seed, int count, int *out)
{
	Rng			rng;
	double	   *cum;
	int			i;

	if (count <= 0)
		return;
	rng_seed(&rng, seed);
	cum = cumulative_weights(d);
	for (i = 0; i < count; i++)
		out[i] = pick_component(cum, d->n, rng_uniform(&rng));
	pdist_free(cum);
}

/* set the length and width of an ASCII row label already in place */
static void
hist_finish_label(HistRow *row)
{
	row->bytes = (int) strlen(row->label);
	row->width = row->bytes;
}

/*
 * A row label from a categorical label: truncated to HIST_LABEL_BYTES with
 * "..." (at a UTF-8 character boundary), control characters shown as '?'
 * so that each row stays on one line.
 */
static void
hist_text_label(HistRow *row, const char *label, int len)
{
	int			n = len;
	int			i;

	if (n > HIST_LABEL_BYTES)
	{
		n = HIST_LABEL_BYTES - 3;
		while (n > 0 && (((unsigned char) label[n]) & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) label[i];

		row->label[i] = (c < 0x20 || c == 0x7F) ? '?' : (char) c;
	}
	if (n < len)
	{
		memcpy(row->label + n, "...", 3);
		n += 3;
	}
	row->label[n] = '\0';
	row->bytes = n;
	row->width = 0;
	for (i = 0; i < n; i++)
		if ((((unsigned char) row->label[i]) & 0xC0) != 0x80)
			row->width++;
}

/*
 * Fill the rows of a histogram (at most HIST_MAX_ROWS) and return their
 * number.
 */
static int
hist_rows(const Pdist *d, HistRow *rows)
{
	int			nrows = 0;
	int			i;

	if (d->kind == PDIST_CATEGORICAL)
	{
		RankItem   *items;
		bool	   *keep;
		PdistSum	rest = {0.0, 0.0};

		if (d->n <= HIST_MAX_ROWS)
		{
			for (i = 0; i < d->n; i++)
			{
				hist_text_label(&rows[i], d->label[i], d->label_len[i]);
				rows[i].prob = d->prob[i];
			}
			return d->n;
		}

		/* the most likely labels in label order, then the rest together */
		items = rank_outcomes(d);
		keep = pdist_alloc((size_t) d->n * sizeof(bool));
		for (i = 0; i < HIST_MAX_ROWS - 1; i++)
			keep[items[i].index] = true;
		for (i = 0; i < d->n; i++)
		{
			if (keep[i])
			{
				hist_text_label(&rows[nrows], d->label[i], d->label_len[i]);
				rows[nrows].prob = d->prob[i];
				nrows++;
			}
			else
				pdist_sum_add(&rest, d->prob[i]);
		}
		snprintf(rows[nrows].label, sizeof(rows[nrows].label),
				 "(%d others)", d->n - (HIST_MAX_ROWS - 1));
		hist_finish_label(&rows[nrows]);
		rows[nrows].prob = pdist_sum_result(&rest);
		nrows++;
		pdist_free(keep);
		pdist_free(items);
		return nrows;
	}

	if (d->sigma == NULL && d->n <= HIST_MAX_ROWS)
	{
		for (i = 0; i < d->n; i++)
		{
			snprintf(rows[i].label, sizeof(rows[i].label), "%.6g",
					 d->value[i]);
			hist_finish_label(&rows[i]);
			rows[i].prob = d->prob[i];
		}
		return d->n;
	}

	if (d->sigma == NULL)
	{
		/* equal-width bins over the support */
		double		lo = d->value[0];
		double		hi = d->value[d->n - 1];
		double		step = hi / HIST_MAX_ROWS - lo / HIST_MAX_ROWS;
		double		half_range = hi * 0.5 - lo * 0.5;

		for (i = 0; i < HIST_MAX_ROWS; i++)
		{
			double		a = snap_edge(lo + step * i, step);
			double		b = snap_edge((i == HIST_MAX_ROWS - 1) ?
									  hi : lo + step * (i + 1), step);

			snprintf(rows[i].label, sizeof(rows[i].label), "[%.6g, %.6g%c",
					 a, b, (i == HIST_MAX_ROWS - 1) ? ']' : ')');
			hist_finish_label(&rows[i]);
			rows[i].prob = 0.0;
		}
		for (i = 0; i < d->n; i++)
		{
			double		f = (d->value[i] * 0.5 - lo * 0.5) / half_range *
				HIST_MAX_ROWS;
			int			b;

			if (f >= HIST_MAX_ROWS)
				b = HIST_MAX_ROWS - 1;
			else if (f > 0.0)
				b = (int) f;
			else
				b = 0;
			rows[b].prob += d->prob[i];
		}
		return HIST_MAX_ROWS;
	}

	/*
	 * Continuous: bins over the central 99.8%, the outer ones absorbing the
	 * tails so that the rows add up to 1.
	 */
	{
		double		lo = pdist_quantile(d, 0.001);
		double		hi = pdist_quantile(d, 0.999);
		double		step;
		double		prev = 0.0;

		if (!(hi > lo))
		{
			double		spread = fabs(lo) * 1e-6;

			if (spread == 0.0)
				spread = 1.0;
			hi = (lo > DBL_MAX - spread) ? DBL_MAX : lo + spread;
			lo = (lo < -DBL_MAX + spread) ? -DBL_MAX : lo - spread;
		}
		step = hi / HIST_CONT_BINS - lo / HIST_CONT_BINS;

		for (i = 0; i < HIST_CONT_BINS; i++)
		{
			double		a = snap_edge(lo + step * i, step);
			double		b = snap_edge((i == HIST_CONT_BINS - 1) ?
									  hi : lo + step * (i + 1), step);
			double		below = (i == HIST_CONT_BINS - 1) ?
				1.0 : pdist_cdf_below(d, b);

			if (i == 0)
				snprintf(rows[i].label, sizeof(rows[i].label),
						 "(-inf, %.6g)", b);
			else if (i == HIST_CONT_BINS - 1)
				snprintf(rows[i].label, sizeof(rows[i].label),
						 "[%.6g, inf)", a);
			else
				snprintf(rows[i].label, sizeof(rows[i].label),
						 "[%.6g, %.6g)", a, b);
			hist_finish_label(&rows[i]);
			rows[i].prob = (below > prev) ? below - prev : 0.0;
			prev = below;
		}
		return HIST_CONT_BINS;
	}
}

/*
 * pdist_histogram
 *		A text histogram of d, allocated with pdist_alloc.
 *
 * One row per outcome, or per bin: up to HIST_MAX_ROWS equal-width bins
 * for a large discrete support, HIST_CONT_BINS bins for a continuous d.  A
 * categorical d with more than HIST_MAX_ROWS labels shows the most likely
 * HIST_MAX_ROWS - 1 and one row for all others.  Each row is the label
 * right-aligned, " | ", a bar of '#' scaled so the longest has `width`
 * characters and padded to it, a space and the probability ("%.3f").
 * Rows are separated by newlines, with none at the end.
 */
char *
pdist_histogram(const Pdist *d, int width)
{
	HistRow    *rows;
	char	   *result;
	char	   *p;
	double		max_prob = 0.0;
	int			label_width = 0;
	int			nrows;
	size_t		size;
	int			i;

	if (width < 1)
		width = 1;
	if (width > 1000)
		width = 1000;

	rows = pdist_alloc(HIST_MAX_ROWS * sizeof(HistRow));
	nrows = hist_rows(d, rows);
	for (i = 0; i < nrows; i++)
	{
		if (rows[i].prob > max_prob)
			max_prob = rows[i].prob;
		if (rows[i].width > label_width)
			label_width = rows[i].width;
	}

	/* padding, label, " | ", bar, " ", "0.000", newline; generously */
	size = (size_t) nrows *
		(size_t) (label_width + HIST_LABEL_BUF + width + 32) + 1;
	result = pdist_alloc(size);
	p = result;

	for (i = 0; i < nrows; i++)
	{
		double		frac = (max_prob > 0.0) ? rows[i].prob / max_prob : 0.0;
		int			bar;

		if (i > 0)
			*p++ = '\n';
		memset(p, ' ', (size_t) (label_width - rows[i].width));
		p += label_width - rows[i].width;
		memcpy(p, rows[i].label, (size_t) rows[i].bytes);
		p += rows[i].bytes;
		memcpy(p, " | ", 3);
		p += 3;

		bar = (frac > 0.0) ? (int) floor(frac * width + 0.5) : 0;
		if (bar > width)
			bar = width;
		memset(p, '#', (size_t) bar);
		p += bar;
		memset(p, ' ', (size_t) (width - bar));
		p += width - bar;

		p += snprintf(p, size - (size_t) (p - result), " %.3f", rows[i].prob);
	}
	*p = '\0';

	pdist_free(rows);
	return result;
}
