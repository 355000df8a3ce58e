/*-------------------------------------------------------------------------
 *
 * pdist_ops.c
 *	  SQL operators and functions that combine distributions: arithmetic
 *	  of independent variables, comparisons that return a probability,
 *	  mixtures and interpolation, and the btree and hash support that make
 *	  ORDER BY, DISTINCT, GROUP BY and indexes work.
 *
 * Arithmetic assumes the operands are independent random variables; that
 * assumption is declared in the documentation of every operator.
 *
 * IDENTIFICATION
 *	  src/pdist/pdist_ops.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "pdist_sql.h"

/* Refuse a NaN or infinite scalar operand. */
static void
check_scalar_operand(double x)
{
	if (isnan(x) || isinf(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pdist arithmetic needs a finite number"),
				 errdetail("The value given was %s.", float8out_internal(x))));
}

/* Refuse a result whose outcomes overflowed. */
static void
check_finite_result(const Pdist *d)
{
	for (int i = 0; i < d->n; i++)
		if (isinf(d->value[i]) || isnan(d->value[i]) ||
			(d->sigma && (isinf(d->sigma[i]) || isnan(d->sigma[i]))))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("result of pdist arithmetic is out of range")));
}

/* X * scale + shift, both finite, as a datum. */
static Datum
affine_datum(const Pdist *d, double scale, double shift)
{
	Pdist		out;

	pdist_require_numeric(d, "arithmetic");
	check_scalar_operand(scale);
	check_scalar_operand(shift);
	pdist_affine(d, scale, shift, &out);
	check_finite_result(&out);
	return pdist_make_datum(&out);
}

PG_FUNCTION_INFO_V1(pdist_add_pdist);

Datum
pdist_add_pdist(PG_FUNCTION_ARGS)
{
	Pdist		a;
	Pdist		b;
	Pdist		out;
	PdistError	err;

	pdist_getarg(fcinfo, 0, &a);
	pdist_getarg(fcinfo, 1, &b);
	pdist_require_numeric(&a, "arithmetic");
	pdist_require_numeric(&b, "arithmetic");
	if (!pdist_add(&a, &b, PDIST_MAX_SUPPORT, &out, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

PG_FUNCTION_INFO_V1(pdist_sub_pdist);

Datum
pdist_sub_pdist(PG_FUNCTION_ARGS)
{
	Pdist		a;
	Pdist		b;
	Pdist		negb;
	Pdist		out;
	PdistError	err;

	pdist_getarg(fcinfo, 0, &a);
	pdist_getarg(fcinfo, 1, &b);
	pdist_require_numeric(&a, "arithmetic");
	pdist_require_numeric(&b, "arithmetic");
	pdist_affine(&b, -1.0, 0.0, &negb);
	if (!pdist_add(&a, &negb, PDIST_MAX_SUPPORT, &out, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

PG_FUNCTION_INFO_V1(pdist_mul_pdist);

Datum
pdist_mul_pdist(PG_FUNCTION_ARGS)
{
	Pdist		a;
	Pdist		b;
	Pdist		out;
	PdistError	err;

	pdist_getarg(fcinfo, 0, &a);
	pdist_getarg(fcinfo, 1, &b);
	pdist_require_numeric(&a, "arithmetic");
	pdist_require_numeric(&b, "arithmetic");
	if (!pdist_multiply(&a, &b, PDIST_MAX_SUPPORT, &out, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

PG_FUNCTION_INFO_V1(pdist_add_float8);

Datum
pdist_add_float8(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	PG_RETURN_DATUM(affine_datum(&d, 1.0, PG_GETARG_FLOAT8(1)));
}

PG_FUNCTION_INFO_V1(float8_add_pdist);

Datum
float8_add_pdist(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 1, &d);
	PG_RETURN_DATUM(affine_datum(&d, 1.0, PG_GETARG_FLOAT8(0)));
}

PG_FUNCTION_INFO_V1(pdist_sub_float8);

Datum
pdist_sub_float8(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	PG_RETURN_DATUM(affine_datum(&d, 1.0, -PG_GETARG_FLOAT8(1)));
}

PG_FUNCTION_INFO_V1(float8_sub_pdist);

Datum
float8_sub_pdist(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 1, &d);
	PG_RETURN_DATUM(affine_datum(&d, -1.0, PG_GETARG_FLOAT8(0)));
}

PG_FUNCTION_INFO_V1(pdist_mul_float8);

Datum
pdist_mul_float8(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	PG_RETURN_DATUM(affine_datum(&d, PG_GETARG_FLOAT8(1), 0.0));
}

PG_FUNCTION_INFO_V1(float8_mul_pdist);

Datum
float8_mul_pdist(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 1, &d);
	PG_RETURN_DATUM(affine_datum(&d, PG_GETARG_FLOAT8(0), 0.0));
}

/*
 * pdist_divide
 *		X / x for a numeric d and a finite, non-zero x, dividing each value
 *		(rather than multiplying by 1/x, which is not the same in floating
 *		point: certain(49) / 49 must be 1).
 */
void
pdist_divide(const Pdist *d, double x, Pdist *out)
{
	PdistError	err;

	pdist_init(out, PDIST_NUMERIC, d->n, d->sigma != NULL);
	for (int i = 0; i < d->n; i++)
	{
		out->value[i] = d->value[i] / x;
		if (d->sigma != NULL)
			out->sigma[i] = d->sigma[i] / fabs(x);
		out->prob[i] = d->prob[i];
	}
	/* a negative divisor reverses the order */
	if (!pdist_canonicalize(out, &err))
		pdist_report(&err);
}

PG_FUNCTION_INFO_V1(pdist_div_float8);

Datum
pdist_div_float8(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(1);
	Pdist		d;
	Pdist		out;

	if (x == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DIVISION_BY_ZERO),
				 errmsg("division by zero")));
	check_scalar_operand(x);
	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "arithmetic");
	pdist_divide(&d, x, &out);
	check_finite_result(&out);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

PG_FUNCTION_INFO_V1(pdist_negate);

Datum
pdist_negate(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	PG_RETURN_DATUM(affine_datum(&d, -1.0, 0.0));
}

/*
 * Comparisons against a number, returning a probability.  "op" selects
 * which: the SQL functions prob_gt ... prob_eq share this body.
 */
typedef enum ProbCompare
{
	PROB_GT,
	PROB_GE,
	PROB_LT,
	PROB_LE,
	PROB_EQ
} ProbCompare;

static double
clamp_probability(double p)
{
	return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

static Datum
prob_compare_scalar(FunctionCallInfo fcinfo, ProbCompare op)
{
	double		x = PG_GETARG_FLOAT8(1);
	Pdist		d;
	double		p = 0.0;

	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "comparison with a number");
	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot compare a pdist with NaN")));
	switch (op)
	{
		case PROB_GT:
			p = pdist_prob_above(&d, x);
			break;
		case PROB_GE:
			p = pdist_prob_at_or_above(&d, x);
			break;
		case PROB_LT:
			p = pdist_cdf_below(&d, x);
			break;
		case PROB_LE:
			p = pdist_cdf(&d, x);
			break;
		case PROB_EQ:
			p = pdist_prob_point(&d, x);
			break;
	}
	PG_RETURN_FLOAT8(clamp_probability(p));
}

PG_FUNCTION_INFO_V1(pdist_prob_gt);
PG_FUNCTION_INFO_V1(pdist_prob_ge);
PG_FUNCTION_INFO_V1(pdist_prob_lt);
PG_FUNCTION_INFO_V1(pdist_prob_le);
PG_FUNCTION_INFO_V1(pdist_prob_eq);

Datum
pdist_prob_gt(PG_FUNCTION_ARGS)
{
	return prob_compare_scalar(fcinfo, PROB_GT);
}

Datum
pdist_prob_ge(PG_FUNCTION_ARGS)
{
	return prob_compare_scalar(fcinfo, PROB_GE);
}

Datum
pdist_prob_lt(PG_FUNCTION_ARGS)
{
	return prob_compare_scalar(fcinfo, PROB_LT);
}

Datum
pdist_prob_le(PG_FUNCTION_ARGS)
{
	return prob_compare_scalar(fcinfo, PROB_LE);
}

Datum
pdist_prob_eq(PG_FUNCTION_ARGS)
{
	return prob_compare_scalar(fcinfo, PROB_EQ);
}

/* The same comparisons between two independent distributions. */
static Datum
prob_compare_pdist(FunctionCallInfo fcinfo, ProbCompare op)
{
	Pdist		a;
	Pdist		b;
	double		p = 0.0;

	pdist_getarg(fcinfo, 0, &a);
	pdist_getarg(fcinfo, 1, &b);
	if (op == PROB_EQ)
	{
		if (a.kind != b.kind)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot compare a numeric and a categorical pdist")));
		PG_RETURN_FLOAT8(clamp_probability(pdist_prob_equal(&a, &b)));
	}
	pdist_require_numeric(&a, "ordering comparison");
	pdist_require_numeric(&b, "ordering comparison");
	switch (op)
	{
		case PROB_GT:
			p = pdist_prob_greater(&a, &b);
			break;
		case PROB_GE:
			p = pdist_prob_greater(&a, &b) + pdist_prob_equal(&a, &b);
			break;
		case PROB_LT:
			p = pdist_prob_greater(&b, &a);
			break;
		case PROB_LE:
			p = pdist_prob_greater(&b, &a) + pdist_prob_equal(&a, &b);
			break;
		case PROB_EQ:
			break;				/* handled above */
	}
	PG_RETURN_FLOAT8(clamp_probability(p));
}

PG_FUNCTION_INFO_V1(pdist_prob_gt_pdist);
PG_FUNCTION_INFO_V1(pdist_prob_ge_pdist);
PG_FUNCTION_INFO_V1(pdist_prob_lt_pdist);
PG_FUNCTION_INFO_V1(pdist_prob_le_pdist);
PG_FUNCTION_INFO_V1(pdist_prob_eq_pdist);

Datum
pdist_prob_gt_pdist(PG_FUNCTION_ARGS)
{
	return prob_compare_pdist(fcinfo, PROB_GT);
}

Datum
pdist_prob_ge_pdist(PG_FUNCTION_ARGS)
{
	return prob_compare_pdist(fcinfo, PROB_GE);
}

Datum
pdist_prob_lt_pdist(PG_FUNCTION_ARGS)
{
	return prob_compare_pdist(fcinfo, PROB_LT);
}

Datum
pdist_prob_le_pdist(PG_FUNCTION_ARGS)
{
	return prob_compare_pdist(fcinfo, PROB_LE);
}

Datum
pdist_prob_eq_pdist(PG_FUNCTION_ARGS)
{
	return prob_compare_pdist(fcinfo, PROB_EQ);
}

PG_FUNCTION_INFO_V1(pdist_mixture_pair);

/* ttpdb.mixture(a, b, weight_a): draw from a with probability weight_a. */
Datum
pdist_mixture_pair(PG_FUNCTION_ARGS)
{
	double		w = PG_GETARG_FLOAT8(2);
	Pdist		a;
	Pdist		b;
	Pdist		out;
	PdistError	err;

	pdist_check_probability_arg(w, "mixture weight", true, true);
	pdist_getarg(fcinfo, 0, &a);
	pdist_getarg(fcinfo, 1, &b);
	if (!pdist_mix(&a, &b, w, &out, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

/* Interpolate a (at fraction 0) towards b (at fraction 1). */
static Datum
interpolate_datum(FunctionCallInfo fcinfo, double t)
{
	Pdist		a;
	Pdist		b;
	Pdist		out;
	PdistError	err;

	pdist_getarg(fcinfo, 0, &a);
	pdist_getarg(fcinfo, fcinfo->nargs == 3 ? 1 : 2, &b);
	if (!pdist_interpolate(&a, &b, t, PDIST_MAX_SUPPORT, &out, &err))
		pdist_report(&err);
	return pdist_make_datum(&out);
}

PG_FUNCTION_INFO_V1(pdist_interpolate_fraction);

/* ttpdb.interpolate(a, b, fraction) */
Datum
pdist_interpolate_fraction(PG_FUNCTION_ARGS)
{
	double		t = PG_GETARG_FLOAT8(2);

	pdist_check_probability_arg(t, "interpolation fraction", true, true);
	PG_RETURN_DATUM(interpolate_datum(fcinfo, t));
}

PG_FUNCTION_INFO_V1(pdist_interpolate_time);

/*
 * ttpdb.interpolate(a, time_a, b, time_b, at)
 *		Gap filling between two observations: the distribution at "at",
 *		which must lie between the observation times.
 */
Datum
pdist_interpolate_time(PG_FUNCTION_ARGS)
{
	TimestampTz ta = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz tb = PG_GETARG_TIMESTAMPTZ(3);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(4);
	double		t;

	if (TIMESTAMP_NOT_FINITE(ta) || TIMESTAMP_NOT_FINITE(tb) ||
		TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("interpolation times must be finite")));
	/* timestamptz_to_str returns a static buffer: copy each result */
	if (ta >= tb)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the first observation must be earlier than the second"),
				 errdetail("Observed at %s and %s.",
						   pstrdup(timestamptz_to_str(ta)),
						   pstrdup(timestamptz_to_str(tb)))));
	if (at < ta || at > tb)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("interpolation time %s is outside the observations",
						pstrdup(timestamptz_to_str(at))),
				 errdetail("Observed at %s and %s.",
						   pstrdup(timestamptz_to_str(ta)),
						   pstrdup(timestamptz_to_str(tb))),
				 errhint("Interpolation does not extrapolate.")));
	/* in double: the int64 differences can overflow for legal timestamps */
	t = ((double) at - (double) ta) / ((double) tb - (double) ta);
	PG_RETURN_DATUM(interpolate_datum(fcinfo, t));
}

/*
 * Btree and hash support.  Equality is identity of canonical forms, which
 * is identity of stored bytes; the order is the core's total order
 * (numeric before categorical, then by mean, then component by component).
 */
static int
pdist_cmp_internal(FunctionCallInfo fcinfo)
{
	PdistFlat  *fa = PG_GETARG_PDIST_FLAT(0);
	PdistFlat  *fb = PG_GETARG_PDIST_FLAT(1);
	Pdist		a;
	Pdist		b;
	int			result;

	if (VARSIZE(fa) == VARSIZE(fb) &&
		memcmp((char *) fa + VARHDRSZ, (char *) fb + VARHDRSZ,
			   VARSIZE(fa) - VARHDRSZ) == 0)
		result = 0;
	else
	{
		pdist_from_flat(fa, &a);
		pdist_from_flat(fb, &b);
		result = pdist_compare(&a, &b);
		/* A categorical view allocates its label arrays: sorts call us often. */
		pdist_free(a.label);
		pdist_free(a.label_len);
		pdist_free(b.label);
		pdist_free(b.label_len);
	}
	PG_FREE_IF_COPY(fa, 0);
	PG_FREE_IF_COPY(fb, 1);
	return result;
}

/* Equality is identity of the stored canonical bytes. */
static bool
pdist_bytes_equal(FunctionCallInfo fcinfo)
{
	PdistFlat  *fa = PG_GETARG_PDIST_FLAT(0);
	PdistFlat  *fb = PG_GETARG_PDIST_FLAT(1);
	bool		result;

	result = VARSIZE(fa) == VARSIZE(fb) &&
		memcmp((char *) fa + VARHDRSZ, (char *) fb + VARHDRSZ,
			   VARSIZE(fa) - VARHDRSZ) == 0;
	PG_FREE_IF_COPY(fa, 0);
	PG_FREE_IF_COPY(fb, 1);
	return result;
}

PG_FUNCTION_INFO_V1(pdist_cmp);
PG_FUNCTION_INFO_V1(pdist_lt);
PG_FUNCTION_INFO_V1(pdist_le);
PG_FUNCTION_INFO_V1(pdist_eq);
PG_FUNCTION_INFO_V1(pdist_ne);
PG_FUNCTION_INFO_V1(pdist_ge);
PG_FUNCTION_INFO_V1(pdist_gt);

Datum
pdist_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(pdist_cmp_internal(fcinfo));
}

Datum
pdist_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pdist_cmp_internal(fcinfo) < 0);
}

Datum
pdist_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pdist_cmp_internal(fcinfo) <= 0);
}

Datum
pdist_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pdist_bytes_equal(fcinfo));
}

Datum
pdist_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!pdist_bytes_equal(fcinfo));
}

Datum
pdist_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pdist_cmp_internal(fcinfo) >= 0);
}

Datum
pdist_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pdist_cmp_internal(fcinfo) > 0);
}

PG_FUNCTION_INFO_V1(pdist_hash);

Datum
pdist_hash(PG_FUNCTION_ARGS)
{
	PdistFlat  *f = PG_GETARG_PDIST_FLAT(0);
	Datum		result;

	result = hash_any((unsigned char *) f + VARHDRSZ, VARSIZE(f) - VARHDRSZ);
	PG_FREE_IF_COPY(f, 0);
	return result;
}

PG_FUNCTION_INFO_V1(pdist_hash_extended);

Datum
pdist_hash_extended(PG_FUNCTION_ARGS)
{
	PdistFlat  *f = PG_GETARG_PDIST_FLAT(0);
	Datum		result;

	result = hash_any_extended((unsigned char *) f + VARHDRSZ,
							   VARSIZE(f) - VARHDRSZ, PG_GETARG_INT64(1));
	PG_FREE_IF_COPY(f, 0);
	return result;
}
