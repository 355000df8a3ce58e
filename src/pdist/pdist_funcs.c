/*-------------------------------------------------------------------------
 *
 * pdist_funcs.c
 *	  SQL functions that read one distribution: moments, probabilities,
 *	  quantiles, COLLAPSE, UNCERTAINTY, support, sampling and the text
 *	  histogram.
 *
 * Each function checks its scalar arguments and the distribution's kind
 * here, so the core can assume valid input.
 *
 * IDENTIFICATION
 *	  src/pdist/pdist_funcs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "pdist_sql.h"

/* Most draws ttpdb.sample() returns in one call. */
#define PDIST_MAX_SAMPLE	1000000

PG_FUNCTION_INFO_V1(pdist_expected_value);

Datum
pdist_expected_value(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "expected value");
	PG_RETURN_FLOAT8(pdist_mean(&d));
}

PG_FUNCTION_INFO_V1(pdist_variance_fn);

Datum
pdist_variance_fn(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "variance");
	PG_RETURN_FLOAT8(pdist_variance(&d));
}

PG_FUNCTION_INFO_V1(pdist_stddev_fn);

Datum
pdist_stddev_fn(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "standard deviation");
	PG_RETURN_FLOAT8(sqrt(pdist_variance(&d)));
}

PG_FUNCTION_INFO_V1(pdist_probability_float8);

/* P(X = x): the mass of point x (a normal component puts none on a point). */
Datum
pdist_probability_float8(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "probability of a number");
	PG_RETURN_FLOAT8(pdist_prob_point(&d, PG_GETARG_FLOAT8(1)));
}

PG_FUNCTION_INFO_V1(pdist_probability_text);

Datum
pdist_probability_text(PG_FUNCTION_ARGS)
{
	text	   *label = PG_GETARG_TEXT_PP(1);
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	if (d.kind != PDIST_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("probability of a label is not defined for a numeric pdist"),
				 errhint("Pass a number, as in ttpdb.probability(d, 20.5).")));
	PG_RETURN_FLOAT8(pdist_prob_label(&d, VARDATA_ANY(label),
									  VARSIZE_ANY_EXHDR(label)));
}

PG_FUNCTION_INFO_V1(pdist_cdf_fn);

/* P(X <= x) */
Datum
pdist_cdf_fn(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(1);
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "cdf");
	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cdf is not defined at NaN")));
	PG_RETURN_FLOAT8(pdist_cdf(&d, x));
}

PG_FUNCTION_INFO_V1(pdist_quantile_fn);

/* The smallest x with P(X <= x) >= p. */
Datum
pdist_quantile_fn(PG_FUNCTION_ARGS)
{
	double		p = PG_GETARG_FLOAT8(1);
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "quantile");
	pdist_check_probability_arg(p, "quantile probability", true, true);
	PG_RETURN_FLOAT8(pdist_quantile(&d, p));
}

PG_FUNCTION_INFO_V1(pdist_confidence_interval);

/*
 * The equal-tailed interval [quantile((1 - level) / 2),
 * quantile((1 + level) / 2)], returned as (lower, upper).  For a discrete
 * distribution it covers at least "level" of the mass.
 */
Datum
pdist_confidence_interval(PG_FUNCTION_ARGS)
{
	double		level = PG_GETARG_FLOAT8(1);
	Pdist		d;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "confidence interval");
	pdist_check_probability_arg(level, "confidence level", false, false);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Float8GetDatum(pdist_quantile(&d, (1.0 - level) / 2.0));
	values[1] = Float8GetDatum(pdist_quantile(&d, (1.0 + level) / 2.0));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(pdist_most_likely);

Datum
pdist_most_likely(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	if (d.kind != PDIST_NUMERIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("most likely number is not defined for a categorical pdist"),
				 errhint("Use ttpdb.most_likely_label() for categorical distributions.")));
	PG_RETURN_FLOAT8(pdist_mode_value(&d));
}

PG_FUNCTION_INFO_V1(pdist_most_likely_label);

Datum
pdist_most_likely_label(PG_FUNCTION_ARGS)
{
	Pdist		d;
	int			i;

	pdist_getarg(fcinfo, 0, &d);
	if (d.kind != PDIST_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("most likely label is not defined for a numeric pdist"),
				 errhint("Use ttpdb.most_likely() for numeric distributions.")));
	i = pdist_mode_index(&d);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(d.label[i], d.label_len[i]));
}

PG_FUNCTION_INFO_V1(pdist_collapse_fn);

/*
 * COLLAPSE: keep the most likely outcomes until their probability reaches
 * the threshold, renormalised.
 */
Datum
pdist_collapse_fn(PG_FUNCTION_ARGS)
{
	double		threshold = PG_GETARG_FLOAT8(1);
	Pdist		d;
	Pdist		out;

	pdist_getarg(fcinfo, 0, &d);
	pdist_check_probability_arg(threshold, "collapse threshold", false, true);
	pdist_collapse(&d, threshold, &out);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

PG_FUNCTION_INFO_V1(pdist_collapse_mode);

/* COLLAPSE to the single most likely outcome, as a certain value. */
Datum
pdist_collapse_mode(PG_FUNCTION_ARGS)
{
	Pdist		d;
	Pdist		out;

	pdist_getarg(fcinfo, 0, &d);
	pdist_top_k(&d, 1, &out);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

PG_FUNCTION_INFO_V1(pdist_uncertainty);

/* UNCERTAINTY: Shannon entropy in bits (differential for continuous kinds). */
Datum
pdist_uncertainty(PG_FUNCTION_ARGS)
{
	Pdist		d;
	double		h;
	PdistError	err;

	pdist_getarg(fcinfo, 0, &d);
	if (!pdist_entropy(&d, 2.0, &h, &err))
		pdist_report(&err);
	PG_RETURN_FLOAT8(h);
}

PG_FUNCTION_INFO_V1(pdist_entropy_fn);

Datum
pdist_entropy_fn(PG_FUNCTION_ARGS)
{
	Pdist		d;
	double		h;
	PdistError	err;

	pdist_getarg(fcinfo, 0, &d);
	if (!pdist_entropy(&d, PG_GETARG_FLOAT8(1), &h, &err))
		pdist_report(&err);
	PG_RETURN_FLOAT8(h);
}

PG_FUNCTION_INFO_V1(pdist_support);

Datum
pdist_support(PG_FUNCTION_ARGS)
{
	Pdist		d;
	Datum	   *elems;

	pdist_getarg(fcinfo, 0, &d);
	if (d.kind != PDIST_NUMERIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("numeric support is not defined for a categorical pdist"),
				 errhint("Use ttpdb.labels() for categorical distributions.")));
	if (pdist_is_continuous(&d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the support of a pdist with normal components is not a finite set"),
				 errhint("Use ttpdb.discretize() first, or ttpdb.confidence_interval().")));
	elems = palloc(sizeof(Datum) * d.n);
	for (int i = 0; i < d.n; i++)
		elems[i] = Float8GetDatum(d.value[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, d.n, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(pdist_labels);

Datum
pdist_labels(PG_FUNCTION_ARGS)
{
	Pdist		d;
	Datum	   *elems;

	pdist_getarg(fcinfo, 0, &d);
	if (d.kind != PDIST_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("labels are not defined for a numeric pdist"),
				 errhint("Use ttpdb.support() for numeric distributions.")));
	elems = palloc(sizeof(Datum) * d.n);
	for (int i = 0; i < d.n; i++)
		elems[i] = PointerGetDatum(cstring_to_text_with_len(d.label[i],
															d.label_len[i]));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, d.n, TEXTOID, -1, false,
										  TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(pdist_outcomes);

/*
 * ttpdb.outcomes(d) returns setof (value, label, stddev, probability)
 *		One row per outcome or component, in canonical order.  Numeric rows
 *		have label NULL; categorical rows have value and stddev NULL.
 */
Datum
pdist_outcomes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Pdist		d;

	InitMaterializedSRF(fcinfo, 0);
	pdist_getarg(fcinfo, 0, &d);
	for (int i = 0; i < d.n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (d.kind == PDIST_NUMERIC)
		{
			values[0] = Float8GetDatum(d.value[i]);
			nulls[1] = true;
			values[2] = Float8GetDatum(d.sigma ? d.sigma[i] : 0.0);
		}
		else
		{
			nulls[0] = true;
			values[1] = PointerGetDatum(cstring_to_text_with_len(d.label[i],
																 d.label_len[i]));
			nulls[2] = true;
		}
		values[3] = Float8GetDatum(d.prob[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pdist_top_k_fn);

Datum
pdist_top_k_fn(PG_FUNCTION_ARGS)
{
	int32		k = PG_GETARG_INT32(1);
	Pdist		d;
	Pdist		out;

	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top_k needs k of at least 1"),
				 errdetail("The value given was %d.", k)));
	pdist_getarg(fcinfo, 0, &d);
	pdist_top_k(&d, k, &out);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

PG_FUNCTION_INFO_V1(pdist_discretize_fn);

Datum
pdist_discretize_fn(PG_FUNCTION_ARGS)
{
	int32		bins = PG_GETARG_INT32(1);
	Pdist		d;
	Pdist		out;

	if (bins < 2 || bins > PDIST_MAX_OUTCOMES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of bins must be between 2 and %d", PDIST_MAX_OUTCOMES),
				 errdetail("The value given was %d.", bins)));
	pdist_getarg(fcinfo, 0, &d);
	pdist_require_numeric(&d, "discretize");
	pdist_discretize(&d, bins, &out);
	PG_RETURN_DATUM(pdist_make_datum(&out));
}

/* Validate the count of ttpdb.sample() and ttpdb.sample_labels(). */
static void
check_sample_count(int32 n)
{
	if (n < 0 || n > PDIST_MAX_SAMPLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of draws must be between 0 and %d", PDIST_MAX_SAMPLE),
				 errdetail("The value given was %d.", n)));
}

PG_FUNCTION_INFO_V1(pdist_sample);

/* n draws with a seed: the same seed gives the same draws on any platform. */
Datum
pdist_sample(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(1);
	int64		seed = PG_GETARG_INT64(2);
	Pdist		d;
	double	   *draws;
	Datum	   *elems;

	check_sample_count(n);
	pdist_getarg(fcinfo, 0, &d);
	if (d.kind != PDIST_NUMERIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("numeric sampling is not defined for a categorical pdist"),
				 errhint("Use ttpdb.sample_labels() for categorical distributions.")));
	draws = palloc(sizeof(double) * Max(n, 1));
	elems = palloc(sizeof(Datum) * Max(n, 1));
	pdist_sample_values(&d, (uint64) seed, n, draws);
	for (int i = 0; i < n; i++)
		elems[i] = Float8GetDatum(draws[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(pdist_sample_labels);

Datum
pdist_sample_labels(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(1);
	int64		seed = PG_GETARG_INT64(2);
	Pdist		d;
	int		   *draws;
	Datum	   *elems;

	check_sample_count(n);
	pdist_getarg(fcinfo, 0, &d);
	if (d.kind != PDIST_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("label sampling is not defined for a numeric pdist"),
				 errhint("Use ttpdb.sample() for numeric distributions.")));
	draws = palloc(sizeof(int) * Max(n, 1));
	elems = palloc(sizeof(Datum) * Max(n, 1));
	pdist_sample_indexes(&d, (uint64) seed, n, draws);
	for (int i = 0; i < n; i++)
		elems[i] = PointerGetDatum(cstring_to_text_with_len(d.label[draws[i]],
															d.label_len[draws[i]]));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false,
										  TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(pdist_histogram_fn);

Datum
pdist_histogram_fn(PG_FUNCTION_ARGS)
{
	int32		width = PG_GETARG_INT32(1);
	Pdist		d;

	if (width < 10 || width > 200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram width must be between 10 and 200"),
				 errdetail("The value given was %d.", width)));
	pdist_getarg(fcinfo, 0, &d);
	PG_RETURN_TEXT_P(cstring_to_text(pdist_histogram(&d, width)));
}

PG_FUNCTION_INFO_V1(pdist_kind);

/* 'discrete', 'normal', 'mixture' or 'categorical' */
Datum
pdist_kind(PG_FUNCTION_ARGS)
{
	Pdist		d;
	const char *kind;

	pdist_getarg(fcinfo, 0, &d);
	if (d.kind == PDIST_CATEGORICAL)
		kind = "categorical";
	else if (!pdist_is_continuous(&d))
		kind = "discrete";
	else if (d.n == 1)
		kind = "normal";
	else
		kind = "mixture";
	PG_RETURN_TEXT_P(cstring_to_text(kind));
}

PG_FUNCTION_INFO_V1(pdist_outcome_count);

Datum
pdist_outcome_count(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	PG_RETURN_INT32(d.n);
}

PG_FUNCTION_INFO_V1(pdist_is_certain);

/* True for a single outcome with probability 1 (not a normal). */
Datum
pdist_is_certain(PG_FUNCTION_ARGS)
{
	Pdist		d;

	pdist_getarg(fcinfo, 0, &d);
	PG_RETURN_BOOL(d.n == 1 && !pdist_is_continuous(&d));
}
