/*-------------------------------------------------------------------------
 *
 * pdist_agg.c
 *	  Aggregates over distributions and plain numbers: sum (convolution),
 *	  avg and avg_ci (the distribution of the mean and its interval),
 *	  expected_count, mixture, and the empirical distribution of numbers.
 *
 * All are two-step with combine, serial and deserial functions, so they
 * run in parallel.  Two kinds of state:
 *
 *	- PdistSumState, a running convolution kept in stored layout in the
 *	  aggregate context; each row is added in the per-row context and the
 *	  result re-stored, so nothing grows per row but the (capped) state.
 *	- PdistAccum, a buffer of weighted components (mixture, empirical)
 *	  that is sorted and merged only when it fills, so a million rows cost
 *	  O(log) each.  Results are exact while there are at most
 *	  PDIST_MAX_OUTCOMES distinct outcomes; beyond that a numeric result
 *	  is reduced to that many components with its mean kept.
 *
 * IDENTIFICATION
 *	  src/pdist/pdist_agg.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"

#include "pdist_sql.h"

/* ---------------------------------------------------------------------
 * Running convolution: sum(pdist), avg(pdist), avg_ci(pdist, level)
 * ---------------------------------------------------------------------
 */
typedef struct PdistSumState
{
	PdistFlat  *sum;			/* in the aggregate context; NULL if no row */
	int64		count;
	double		level;			/* avg_ci only; NaN until the first row */
} PdistSumState;

static MemoryContext
aggregate_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return aggcontext;
}

/* Store d as the state's sum, in the aggregate context. */
static void
sum_state_store(PdistSumState *state, const Pdist *d, MemoryContext aggcontext)
{
	size_t		size = pdist_flat_size(d);
	PdistFlat  *flat = MemoryContextAlloc(aggcontext, size);

	pdist_flatten(d, flat);
	SET_VARSIZE(flat, size);
	if (state->sum != NULL)
		pfree(state->sum);
	state->sum = flat;
}

/* Add the distribution "d" (count rows' worth) to the state. */
static void
sum_state_add(PdistSumState *state, const Pdist *d, int64 count,
			  MemoryContext aggcontext)
{
	if (state->sum == NULL)
		sum_state_store(state, d, aggcontext);
	else
	{
		Pdist		cur;
		Pdist		out;
		PdistError	err;

		pdist_from_flat(state->sum, &cur);
		if (!pdist_add(&cur, d, PDIST_MAX_SUPPORT, &out, &err))
			pdist_report(&err);
		sum_state_store(state, &out, aggcontext);
	}
	state->count += count;
}

static PdistSumState *
sum_state_new(MemoryContext aggcontext)
{
	PdistSumState *state = MemoryContextAllocZero(aggcontext,
												  sizeof(PdistSumState));

	state->level = get_float8_nan();
	return state;
}

PG_FUNCTION_INFO_V1(pdist_sum_transfn);

Datum
pdist_sum_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_sum_transfn");
	PdistSumState *state;
	Pdist		d;

	state = PG_ARGISNULL(0) ? sum_state_new(aggcontext)
		: (PdistSumState *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1))
	{
		pdist_getarg(fcinfo, 1, &d);
		pdist_require_numeric(&d, "sum");
		sum_state_add(state, &d, 1, aggcontext);
	}
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(pdist_avg_ci_transfn);

/* avg_ci(pdist, level): the level must be the same on every row. */
Datum
pdist_avg_ci_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_avg_ci_transfn");
	PdistSumState *state;
	Pdist		d;
	double		level;

	state = PG_ARGISNULL(0) ? sum_state_new(aggcontext)
		: (PdistSumState *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("confidence level must not be null")));
	level = PG_GETARG_FLOAT8(2);
	pdist_check_probability_arg(level, "confidence level", false, false);
	if (isnan(state->level))
		state->level = level;
	else if (state->level != level)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence level must be the same for every row")));
	pdist_getarg(fcinfo, 1, &d);
	pdist_require_numeric(&d, "avg_ci");
	sum_state_add(state, &d, 1, aggcontext);
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(pdist_sum_combine);

Datum
pdist_sum_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_sum_combine");
	PdistSumState *s1 = PG_ARGISNULL(0) ? NULL : (PdistSumState *) PG_GETARG_POINTER(0);
	PdistSumState *s2 = PG_ARGISNULL(1) ? NULL : (PdistSumState *) PG_GETARG_POINTER(1);
	Pdist		d;

	if (s2 == NULL || s2->sum == NULL)
	{
		if (s1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s1);
	}
	if (s1 == NULL)
		s1 = sum_state_new(aggcontext);
	if (!isnan(s2->level))
	{
		if (!isnan(s1->level) && s1->level != s2->level)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("confidence level must be the same for every row")));
		s1->level = s2->level;
	}
	pdist_from_flat(s2->sum, &d);
	sum_state_add(s1, &d, s2->count, aggcontext);
	PG_RETURN_POINTER(s1);
}

PG_FUNCTION_INFO_V1(pdist_sum_serialize);

/* int8 count, float8 level, then the stored pdist (if any row). */
Datum
pdist_sum_serialize(PG_FUNCTION_ARGS)
{
	PdistSumState *state;
	StringInfoData buf;

	aggregate_context(fcinfo, "pdist_sum_serialize");
	state = (PdistSumState *) PG_GETARG_POINTER(0);
	pq_begintypsend(&buf);
	pq_sendint64(&buf, state->count);
	pq_sendfloat8(&buf, state->level);
	if (state->sum != NULL)
		pq_sendbytes(&buf, (char *) state->sum, VARSIZE(state->sum));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(pdist_sum_deserialize);

Datum
pdist_sum_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_sum_deserialize");
	bytea	   *sstate = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	PdistSumState *state = sum_state_new(aggcontext);

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(sstate), VARSIZE_ANY_EXHDR(sstate));
	state->count = pq_getmsgint64(&buf);
	state->level = pq_getmsgfloat8(&buf);
	if (buf.cursor < buf.len)
	{
		int			size = buf.len - buf.cursor;
		PdistFlat  *flat = MemoryContextAlloc(aggcontext, size);

		memcpy(flat, pq_getmsgbytes(&buf, size), size);
		state->sum = flat;
	}
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(pdist_sum_final);

Datum
pdist_sum_final(PG_FUNCTION_ARGS)
{
	PdistSumState *state = PG_ARGISNULL(0) ? NULL : (PdistSumState *) PG_GETARG_POINTER(0);

	if (state == NULL || state->sum == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(datumCopy(PointerGetDatum(state->sum), false, -1));
}

/* The distribution of the mean: the sum scaled by 1/count. */
static void
sum_state_mean(PdistSumState *state, Pdist *out)
{
	Pdist		sum;

	pdist_from_flat(state->sum, &sum);
	pdist_divide(&sum, (double) state->count, out);
}

PG_FUNCTION_INFO_V1(pdist_avg_final);

Datum
pdist_avg_final(PG_FUNCTION_ARGS)
{
	PdistSumState *state = PG_ARGISNULL(0) ? NULL : (PdistSumState *) PG_GETARG_POINTER(0);
	Pdist		mean;

	if (state == NULL || state->sum == NULL)
		PG_RETURN_NULL();
	sum_state_mean(state, &mean);
	PG_RETURN_DATUM(pdist_make_datum(&mean));
}

/* Build a ttpdb.estimate row (estimate, lower, upper, level, n). */
static Datum
make_estimate(FunctionCallInfo fcinfo, double estimate, double lower,
			  double upper, bool bounds_null, double level, int64 n)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, bounds_null, bounds_null, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Float8GetDatum(estimate);
	values[1] = Float8GetDatum(lower);
	values[2] = Float8GetDatum(upper);
	values[3] = Float8GetDatum(level);
	values[4] = Int64GetDatum(n);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

PG_FUNCTION_INFO_V1(pdist_avg_ci_final);

/*
 * The mean's expected value with the equal-tailed interval of the
 * distribution of the mean (the rows taken as independent).
 */
Datum
pdist_avg_ci_final(PG_FUNCTION_ARGS)
{
	PdistSumState *state = PG_ARGISNULL(0) ? NULL : (PdistSumState *) PG_GETARG_POINTER(0);
	Pdist		mean;
	double		level;

	if (state == NULL || state->sum == NULL)
		PG_RETURN_NULL();
	level = state->level;
	sum_state_mean(state, &mean);
	PG_RETURN_DATUM(make_estimate(fcinfo, pdist_mean(&mean),
								  pdist_quantile(&mean, (1.0 - level) / 2.0),
								  pdist_quantile(&mean, (1.0 + level) / 2.0),
								  false, level, state->count));
}

/* ---------------------------------------------------------------------
 * avg_ci(float8, level): Student's t interval of the mean of numbers
 *
 * State is float8[4] = {n, mean, M2, level}, updated with Welford's method
 * and combined with Chan's, so no serial functions are needed.
 * ---------------------------------------------------------------------
 */
static float8 *
float8_state(ArrayType *arr)
{
	if (ARR_NDIM(arr) != 1 || ARR_DIMS(arr)[0] != 4 || ARR_HASNULL(arr) ||
		ARR_ELEMTYPE(arr) != FLOAT8OID)
		elog(ERROR, "avg_ci expected a 4-element float8 array as state");
	return (float8 *) ARR_DATA_PTR(arr);
}

PG_FUNCTION_INFO_V1(float8_avg_ci_transfn);

Datum
float8_avg_ci_transfn(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	float8	   *s;
	double		x;
	double		level;
	double		delta;

	aggregate_context(fcinfo, "float8_avg_ci_transfn");
	if (PG_ARGISNULL(0))
		elog(ERROR, "float8_avg_ci_transfn called with a null state");
	arr = PG_GETARG_ARRAYTYPE_P(0);
	s = float8_state(arr);
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(arr);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("confidence level must not be null")));
	x = PG_GETARG_FLOAT8(1);
	level = PG_GETARG_FLOAT8(2);
	pdist_check_probability_arg(level, "confidence level", false, false);
	if (isnan(x) || isinf(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("avg_ci needs finite numbers"),
				 errdetail("The value given was %s.", float8out_internal(x))));
	if (s[0] == 0.0)
		s[3] = level;
	else if (s[3] != level)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence level must be the same for every row")));
	/* The state array is ours to modify: it was created by this aggregate. */
	s[0] += 1.0;
	delta = x - s[1];
	s[1] += delta / s[0];
	s[2] += delta * (x - s[1]);
	PG_RETURN_ARRAYTYPE_P(arr);
}

PG_FUNCTION_INFO_V1(float8_avg_ci_combine);

Datum
float8_avg_ci_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *arr1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *arr2 = PG_GETARG_ARRAYTYPE_P(1);
	float8	   *a;
	float8	   *b;
	double		n;
	double		delta;

	aggregate_context(fcinfo, "float8_avg_ci_combine");
	a = float8_state(arr1);
	b = float8_state(arr2);
	if (b[0] == 0.0)
		PG_RETURN_ARRAYTYPE_P(arr1);
	if (a[0] == 0.0)
	{
		memcpy(a, b, sizeof(float8) * 4);
		PG_RETURN_ARRAYTYPE_P(arr1);
	}
	if (a[3] != b[3])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence level must be the same for every row")));
	n = a[0] + b[0];
	delta = b[1] - a[1];
	a[2] += b[2] + delta * delta * a[0] * b[0] / n;
	a[1] += delta * b[0] / n;
	a[0] = n;
	PG_RETURN_ARRAYTYPE_P(arr1);
}

PG_FUNCTION_INFO_V1(float8_avg_ci_final);

/* mean +- t(1 - (1 - level)/2, n - 1) * s / sqrt(n); bounds NULL if n < 2 */
Datum
float8_avg_ci_final(PG_FUNCTION_ARGS)
{
	float8	   *s;
	double		n;
	double		half;

	aggregate_context(fcinfo, "float8_avg_ci_final");
	s = float8_state(PG_GETARG_ARRAYTYPE_P(0));
	n = s[0];
	if (!(n >= 0.0) || n > (double) PG_INT64_MAX)
		elog(ERROR, "invalid avg_ci state");
	if (n == 0.0)
		PG_RETURN_NULL();
	if (n < 2.0)
		PG_RETURN_DATUM(make_estimate(fcinfo, s[1], 0.0, 0.0, true, s[3], 1));
	half = pdist_student_t_quantile((1.0 + s[3]) / 2.0, n - 1.0) *
		sqrt(s[2] / (n - 1.0)) / sqrt(n);
	PG_RETURN_DATUM(make_estimate(fcinfo, s[1], s[1] - half, s[1] + half,
								  false, s[3], (int64) n));
}

PG_FUNCTION_INFO_V1(expected_count_transfn);

/* expected_count(p): the sum of per-row probabilities, each in [0, 1]. */
Datum
expected_count_transfn(PG_FUNCTION_ARGS)
{
	double		sum = PG_GETARG_FLOAT8(0);
	double		p;

	if (PG_ARGISNULL(1))
		PG_RETURN_FLOAT8(sum);
	p = PG_GETARG_FLOAT8(1);
	pdist_check_probability_arg(p, "probability", true, true);
	PG_RETURN_FLOAT8(sum + p);
}

/* ---------------------------------------------------------------------
 * Weighted component buffer: mixture(pdist [, weight]), empirical(float8)
 *
 * The buffer holds raw, unnormalised weights (for empirical, counts) and
 * only divides by their sum in the final function, so frequencies are exact
 * and a parallel plan gives the answer a serial one gives.
 * ---------------------------------------------------------------------
 */
typedef struct PdistAccum
{
	PdistKind	kind;			/* 0 until the first component */
	int			n;				/* components buffered */
	int			cap;			/* allocated */
	double	   *value;			/* numeric */
	double	   *sigma;			/* numeric */
	double	   *weight;			/* raw weights, not normalised */
	char	  **label;			/* categorical: palloc'd copies */
	int		   *label_len;
} PdistAccum;

/* Sort and merge when the buffer reaches this many components. */
#define ACCUM_COMPACT_AT	(2 * PDIST_MAX_OUTCOMES)

/* A sort key for merging equal components without normalising. */
typedef struct AccumKey
{
	const PdistAccum *acc;
	int			index;
} AccumKey;

static PdistAccum *
accum_new(MemoryContext aggcontext)
{
	return MemoryContextAllocZero(aggcontext, sizeof(PdistAccum));
}

/* Set the kind on the first component; refuse mixing kinds after that. */
static void
accum_set_kind(PdistAccum *acc, PdistKind kind)
{
	if (acc->kind == 0)
		acc->kind = kind;
	else if (acc->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot combine a numeric and a categorical pdist")));
}

/* Make room for one more component (allocations in the state's context). */
static void
accum_reserve(PdistAccum *acc)
{
	if (acc->n < acc->cap)
		return;
	if (acc->cap == 0)
	{
		acc->cap = 64;
		acc->weight = palloc(sizeof(double) * acc->cap);
		if (acc->kind == PDIST_NUMERIC)
		{
			acc->value = palloc(sizeof(double) * acc->cap);
			acc->sigma = palloc(sizeof(double) * acc->cap);
		}
		else
		{
			acc->label = palloc(sizeof(char *) * acc->cap);
			acc->label_len = palloc(sizeof(int) * acc->cap);
		}
		return;
	}
	acc->cap *= 2;
	acc->weight = repalloc(acc->weight, sizeof(double) * acc->cap);
	if (acc->kind == PDIST_NUMERIC)
	{
		acc->value = repalloc(acc->value, sizeof(double) * acc->cap);
		acc->sigma = repalloc(acc->sigma, sizeof(double) * acc->cap);
	}
	else
	{
		acc->label = repalloc(acc->label, sizeof(char *) * acc->cap);
		acc->label_len = repalloc(acc->label_len, sizeof(int) * acc->cap);
	}
}

static int
accum_key_cmp(const void *a, const void *b)
{
	const AccumKey *ka = (const AccumKey *) a;
	const AccumKey *kb = (const AccumKey *) b;
	const PdistAccum *acc = ka->acc;
	int			i = ka->index;
	int			j = kb->index;

	if (acc->kind == PDIST_NUMERIC)
	{
		if (acc->value[i] != acc->value[j])
			return acc->value[i] < acc->value[j] ? -1 : 1;
		if (acc->sigma[i] != acc->sigma[j])
			return acc->sigma[i] < acc->sigma[j] ? -1 : 1;
	}
	else
	{
		int			c = memcmp(acc->label[i], acc->label[j],
							   Min(acc->label_len[i], acc->label_len[j]));

		if (c != 0)
			return c;
		if (acc->label_len[i] != acc->label_len[j])
			return acc->label_len[i] < acc->label_len[j] ? -1 : 1;
	}
	return (i > j) - (i < j);
}

/* Whether components i and j have the same value (and sigma) or label. */
static bool
accum_same(const PdistAccum *acc, int i, int j)
{
	if (acc->kind == PDIST_NUMERIC)
		return acc->value[i] == acc->value[j] && acc->sigma[i] == acc->sigma[j];
	return acc->label_len[i] == acc->label_len[j] &&
		memcmp(acc->label[i], acc->label[j], acc->label_len[i]) == 0;
}

/* The buffer as a Pdist with probabilities weight / sum(weights). */
static void
accum_to_pdist(const PdistAccum *acc, Pdist *d)
{
	double		sumw = 0.0;

	for (int i = 0; i < acc->n; i++)
		sumw += acc->weight[i];
	pdist_init(d, acc->kind, acc->n, acc->kind == PDIST_NUMERIC);
	for (int i = 0; i < acc->n; i++)
	{
		d->prob[i] = acc->weight[i] / sumw;
		if (acc->kind == PDIST_NUMERIC)
		{
			d->value[i] = acc->value[i];
			d->sigma[i] = acc->sigma[i];
		}
		else
		{
			d->label[i] = acc->label[i];
			d->label_len[i] = acc->label_len[i];
		}
	}
}

/*
 * Merge equal components by adding their raw weights, in place.  If more
 * than PDIST_MAX_OUTCOMES distinct ones remain, a numeric buffer is reduced
 * (its mean kept) and a categorical one is an error.  Runs in the state's
 * memory context.
 */
static void
accum_compact(PdistAccum *acc)
{
	AccumKey   *keys;
	double	   *weight;
	double	   *value = NULL;
	double	   *sigma = NULL;
	char	  **label = NULL;
	int		   *label_len = NULL;
	int			m = 0;

	if (acc->n == 0)
		return;
	keys = palloc(sizeof(AccumKey) * acc->n);
	for (int i = 0; i < acc->n; i++)
	{
		keys[i].acc = acc;
		keys[i].index = i;
	}
	qsort(keys, acc->n, sizeof(AccumKey), accum_key_cmp);

	weight = palloc(sizeof(double) * acc->cap);
	if (acc->kind == PDIST_NUMERIC)
	{
		value = palloc(sizeof(double) * acc->cap);
		sigma = palloc(sizeof(double) * acc->cap);
	}
	else
	{
		label = palloc(sizeof(char *) * acc->cap);
		label_len = palloc(sizeof(int) * acc->cap);
	}
	for (int k = 0; k < acc->n; k++)
	{
		int			i = keys[k].index;

		if (m > 0 && accum_same(acc, keys[k - 1].index, i))
		{
			weight[m - 1] += acc->weight[i];
			if (acc->kind == PDIST_CATEGORICAL)
				pfree(acc->label[i]);
			continue;
		}
		weight[m] = acc->weight[i];
		if (acc->kind == PDIST_NUMERIC)
		{
			value[m] = acc->value[i];
			sigma[m] = acc->sigma[i];
		}
		else
		{
			label[m] = acc->label[i];
			label_len[m] = acc->label_len[i];
		}
		m++;
	}
	pfree(keys);
	pfree(acc->weight);
	acc->weight = weight;
	if (acc->kind == PDIST_NUMERIC)
	{
		pfree(acc->value);
		pfree(acc->sigma);
		acc->value = value;
		acc->sigma = sigma;
	}
	else
	{
		pfree(acc->label);
		pfree(acc->label_len);
		acc->label = label;
		acc->label_len = label_len;
	}
	acc->n = m;

	if (acc->n > PDIST_MAX_OUTCOMES)
	{
		/* Too many distinct outcomes: reduce, scaling back to raw weights. */
		Pdist		d;
		PdistError	err;
		double		sumw = 0.0;
		double	   *sigma;

		for (int i = 0; i < acc->n; i++)
			sumw += acc->weight[i];
		accum_to_pdist(acc, &d);
		sigma = d.sigma;		/* canonicalising may set d.sigma to NULL */
		if (!pdist_canonicalize_capped(&d, PDIST_MAX_OUTCOMES, &err))
			pdist_report(&err);
		for (int i = 0; i < d.n; i++)
		{
			acc->weight[i] = d.prob[i] * sumw;
			acc->value[i] = d.value[i];
			acc->sigma[i] = d.sigma ? d.sigma[i] : 0.0;
		}
		acc->n = d.n;
		/* these live in the aggregate context: free them, not per row */
		pdist_free(d.prob);
		pdist_free(d.value);
		pdist_free(d.sigma != NULL ? d.sigma : sigma);
	}
}

/* Append one component (value and sigma, or a label) with a raw weight. */
static void
accum_append(PdistAccum *acc, double value, double sigma, const char *label,
			 int label_len, double weight)
{
	if (weight == 0.0)
		return;
	accum_reserve(acc);
	acc->weight[acc->n] = weight;
	if (acc->kind == PDIST_NUMERIC)
	{
		acc->value[acc->n] = value;
		acc->sigma[acc->n] = sigma;
	}
	else
	{
		acc->label[acc->n] = palloc(Max(label_len, 1));
		memcpy(acc->label[acc->n], label, label_len);
		acc->label_len[acc->n] = label_len;
	}
	acc->n++;
	if (acc->n >= ACCUM_COMPACT_AT)
		accum_compact(acc);
}

/* Add every component of d, its probabilities scaled by w. */
static void
accum_add(PdistAccum *acc, const Pdist *d, double w, MemoryContext aggcontext)
{
	MemoryContext old;

	accum_set_kind(acc, d->kind);
	old = MemoryContextSwitchTo(aggcontext);
	for (int i = 0; i < d->n; i++)
	{
		if (d->kind == PDIST_NUMERIC)
			accum_append(acc, d->value[i], d->sigma ? d->sigma[i] : 0.0,
						 NULL, 0, w * d->prob[i]);
		else
			accum_append(acc, 0.0, 0.0, d->label[i], d->label_len[i],
						 w * d->prob[i]);
	}
	MemoryContextSwitchTo(old);
}

static void
check_weight(double w)
{
	if (isnan(w) || isinf(w) || w < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mixture weights must be finite and not negative"),
				 errdetail("The value given was %s.", float8out_internal(w))));
}

PG_FUNCTION_INFO_V1(pdist_mixture_transfn);

/* mixture(pdist) and mixture(pdist, weight) */
Datum
pdist_mixture_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_mixture_transfn");
	PdistAccum *acc;
	Pdist		d;
	double		w = 1.0;

	acc = PG_ARGISNULL(0) ? accum_new(aggcontext) : (PdistAccum *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(acc);
	if (PG_NARGS() > 2)
	{
		if (PG_ARGISNULL(2))
			PG_RETURN_POINTER(acc);
		w = PG_GETARG_FLOAT8(2);
		check_weight(w);
	}
	pdist_getarg(fcinfo, 1, &d);
	accum_add(acc, &d, w, aggcontext);
	PG_RETURN_POINTER(acc);
}

PG_FUNCTION_INFO_V1(pdist_empirical_transfn);

/* empirical(float8): each number is one observation of weight 1. */
Datum
pdist_empirical_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_empirical_transfn");
	PdistAccum *acc;
	MemoryContext old;
	double		x;

	acc = PG_ARGISNULL(0) ? accum_new(aggcontext) : (PdistAccum *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(acc);
	x = PG_GETARG_FLOAT8(1);
	if (isnan(x) || isinf(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pdist outcome must be finite"),
				 errdetail("empirical() was given %s.", float8out_internal(x))));
	accum_set_kind(acc, PDIST_NUMERIC);
	old = MemoryContextSwitchTo(aggcontext);
	/* -0 and 0 are the same observation */
	accum_append(acc, x == 0.0 ? 0.0 : x, 0.0, NULL, 0, 1.0);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(acc);
}

PG_FUNCTION_INFO_V1(pdist_accum_final);

/*
 * Compacting the state changes its representation (not its meaning), so
 * these aggregates are declared FINALFUNC_MODIFY = READ_WRITE: the planner
 * then never shares one state between two of them.
 */
Datum
pdist_accum_final(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_accum_final");
	PdistAccum *acc = PG_ARGISNULL(0) ? NULL : (PdistAccum *) PG_GETARG_POINTER(0);
	MemoryContext old;
	Pdist		d;
	PdistError	err;

	if (acc == NULL || acc->n == 0)
		PG_RETURN_NULL();
	old = MemoryContextSwitchTo(aggcontext);
	accum_compact(acc);
	MemoryContextSwitchTo(old);
	accum_to_pdist(acc, &d);
	if (!pdist_canonicalize(&d, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&d));
}

PG_FUNCTION_INFO_V1(pdist_accum_combine);

/* Append the second state's raw components to the first. */
Datum
pdist_accum_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_accum_combine");
	PdistAccum *a1 = PG_ARGISNULL(0) ? NULL : (PdistAccum *) PG_GETARG_POINTER(0);
	PdistAccum *a2 = PG_ARGISNULL(1) ? NULL : (PdistAccum *) PG_GETARG_POINTER(1);
	MemoryContext old;

	if (a1 == NULL)
		a1 = accum_new(aggcontext);
	if (a2 == NULL || a2->n == 0)
		PG_RETURN_POINTER(a1);
	accum_set_kind(a1, a2->kind);
	old = MemoryContextSwitchTo(aggcontext);
	for (int i = 0; i < a2->n; i++)
	{
		if (a2->kind == PDIST_NUMERIC)
			accum_append(a1, a2->value[i], a2->sigma[i], NULL, 0, a2->weight[i]);
		else
			accum_append(a1, 0.0, 0.0, a2->label[i], a2->label_len[i],
						 a2->weight[i]);
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a1);
}

PG_FUNCTION_INFO_V1(pdist_accum_serialize);

/*
 * int8 kind, int4 n, then per component float8 value, float8 sigma (or
 * int4 length and label bytes) and float8 raw weight.  Compacted first, so
 * a worker sends at most PDIST_MAX_OUTCOMES components.
 */
Datum
pdist_accum_serialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_accum_serialize");
	PdistAccum *acc = (PdistAccum *) PG_GETARG_POINTER(0);
	MemoryContext old;
	StringInfoData buf;

	old = MemoryContextSwitchTo(aggcontext);
	accum_compact(acc);
	MemoryContextSwitchTo(old);

	pq_begintypsend(&buf);
	pq_sendint8(&buf, (int8) acc->kind);
	pq_sendint32(&buf, acc->n);
	for (int i = 0; i < acc->n; i++)
	{
		if (acc->kind == PDIST_NUMERIC)
		{
			pq_sendfloat8(&buf, acc->value[i]);
			pq_sendfloat8(&buf, acc->sigma[i]);
		}
		else
		{
			pq_sendint32(&buf, acc->label_len[i]);
			pq_sendbytes(&buf, acc->label[i], acc->label_len[i]);
		}
		pq_sendfloat8(&buf, acc->weight[i]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(pdist_accum_deserialize);

Datum
pdist_accum_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "pdist_accum_deserialize");
	bytea	   *sstate = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	PdistAccum *acc = accum_new(aggcontext);
	MemoryContext old;
	int			kind;
	int			n;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(sstate), VARSIZE_ANY_EXHDR(sstate));
	kind = pq_getmsgint(&buf, 1);
	n = pq_getmsgint(&buf, 4);
	if (n < 0 || (n > 0 && kind != PDIST_NUMERIC && kind != PDIST_CATEGORICAL))
		elog(ERROR, "invalid serialized pdist aggregate state");
	if (n > 0)
		accum_set_kind(acc, (PdistKind) kind);
	old = MemoryContextSwitchTo(aggcontext);
	for (int i = 0; i < n; i++)
	{
		if (kind == PDIST_NUMERIC)
		{
			double		value = pq_getmsgfloat8(&buf);
			double		sigma = pq_getmsgfloat8(&buf);

			accum_append(acc, value, sigma, NULL, 0, pq_getmsgfloat8(&buf));
		}
		else
		{
			int			len = pq_getmsgint(&buf, 4);
			const char *label = pq_getmsgbytes(&buf, len);

			accum_append(acc, 0.0, 0.0, label, len, pq_getmsgfloat8(&buf));
		}
	}
	MemoryContextSwitchTo(old);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(acc);
}
