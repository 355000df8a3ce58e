/*-------------------------------------------------------------------------
 *
 * pdist_io.c
 *	  Type pdist at the SQL boundary: text and binary I/O, constructors
 *	  from scalars and arrays, and the glue between the server and the
 *	  server-independent core (memory, errors, argument fetching).
 *
 * Every value leaving this file is in canonical form, so equality, hashing
 * and ordering elsewhere can work on stored bytes.
 *
 * IDENTIFICATION
 *	  src/pdist/pdist_io.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "pdist_sql.h"

/* Binary format version sent first by pdist_send. */
#define PDIST_SEND_VERSION	1

/* Most outcomes, summed over its components, that ttpdb.mixture() merges. */
#define PDIST_MAX_MIXTURE_INPUT	1000000

/*
 * Memory for the core: palloc0 in the current context, so a function's
 * temporaries go away with its context and nothing leaks per row.
 */
void *
pdist_alloc(size_t size)
{
	return palloc0(size);
}

void
pdist_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/* Long loops of the core let a cancel or statement_timeout through. */
void
pdist_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * pdist_report
 *		Raise the error the core described, with the SQLSTATE its status
 *		maps to.
 */
void
pdist_report(const PdistError *err)
{
	int			code;

	switch (err->status)
	{
		case PDIST_ERR_SYNTAX:
			code = ERRCODE_INVALID_TEXT_REPRESENTATION;
			break;
		case PDIST_ERR_LIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case PDIST_ERR_KIND:
			code = ERRCODE_DATATYPE_MISMATCH;
			break;
		case PDIST_ERR_CORRUPT:
			code = ERRCODE_INVALID_BINARY_REPRESENTATION;
			break;
		case PDIST_ERR_RANGE:
			code = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			break;
		case PDIST_ERR_OUTCOME:
		case PDIST_ERR_PROBABILITY:
		case PDIST_ERR_ARGUMENT:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		default:
			elog(ERROR, "unexpected pdist status %d", (int) err->status);
			return;				/* keep compiler quiet */
	}

	/* A syntax error without its own hint shows what a pdist looks like. */
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", err->message),
			 err->detail[0] ? errdetail_internal("%s", err->detail) : 0,
			 err->hint[0] ? errhint("%s", err->hint) :
			 err->status == PDIST_ERR_SYNTAX ?
			 errhint("A pdist is written {20.1: 0.2, 20.5: 0.8}, {\"red\": 0.7, \"blue\": 0.3}, "
					 "42, \"red\" or normal(20.5, 0.4); labels are always in double quotes.") : 0));
}

/*
 * pdist_getarg
 *		View argument argno as a Pdist without copying its arrays.
 */
void
pdist_getarg(FunctionCallInfo fcinfo, int argno, Pdist *d)
{
	pdist_from_flat(PG_GETARG_PDIST_FLAT(argno), d);
}

/*
 * pdist_make_datum
 *		Store a canonical Pdist as a pdist datum.
 */
Datum
pdist_make_datum(const Pdist *d)
{
	size_t		size = pdist_flat_size(d);
	PdistFlat  *flat;

	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("pdist value is too large")));
	flat = palloc(size);
	pdist_flatten(d, flat);
	SET_VARSIZE(flat, size);
	return PointerGetDatum(flat);
}

/*
 * pdist_require_numeric
 *		Refuse a categorical distribution where numbers are needed.
 */
void
pdist_require_numeric(const Pdist *d, const char *operation)
{
	if (d->kind != PDIST_NUMERIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s is not defined for a categorical pdist", operation),
				 errhint("Use ttpdb.probability(), ttpdb.most_likely_label() or "
						 "ttpdb.uncertainty() with categorical distributions.")));
}

/*
 * pdist_check_probability_arg
 *		Validate a probability-like scalar argument (a threshold, a level).
 */
void
pdist_check_probability_arg(double p, const char *what, bool allow_zero,
							bool allow_one)
{
	const char *range;

	if (!(isnan(p) || p < 0.0 || p > 1.0 ||
		  (!allow_zero && p == 0.0) || (!allow_one && p == 1.0)))
		return;
	if (allow_zero && allow_one)
		range = "between 0 and 1";
	else if (allow_one)
		range = "greater than 0 and at most 1";
	else if (allow_zero)
		range = "at least 0 and less than 1";
	else
		range = "greater than 0 and less than 1";
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must be %s", what, range),
			 errdetail("The value given was %s.", float8out_internal(p))));
}

/* Text output of one label, quoted, with " and \ escaped. */
static void
append_label(StringInfo buf, const char *label, int len)
{
	appendStringInfoChar(buf, '"');
	for (int i = 0; i < len; i++)
	{
		if (label[i] == '"' || label[i] == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, label[i]);
	}
	appendStringInfoChar(buf, '"');
}

/* Text output of numeric component i: a number or normal(mean, stddev). */
static void
append_component(StringInfo buf, const Pdist *d, int i)
{
	if (d->sigma != NULL && d->sigma[i] > 0.0)
	{
		char	   *mean = float8out_internal(d->value[i]);
		char	   *sd = float8out_internal(d->sigma[i]);

		appendStringInfo(buf, "normal(%s, %s)", mean, sd);
		pfree(mean);
		pfree(sd);
	}
	else
	{
		char	   *v = float8out_internal(d->value[i]);

		appendStringInfoString(buf, v);
		pfree(v);
	}
}

PG_FUNCTION_INFO_V1(pdist_in);

Datum
pdist_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	Pdist		d;
	PdistError	err;

	if (!pdist_parse(text, &d, &err))
	{
		/*
		 * The core quotes the input cut at a UTF-8 boundary; cut it again at
		 * a character boundary of the server encoding, whatever it is.
		 */
		if (err.status == PDIST_ERR_SYNTAX)
		{
			int			len = strlen(text);
			int			cut = pg_mbcliplen(text, len, 60);

			snprintf(err.message, sizeof(err.message),
					 "invalid input syntax for type pdist: \"%.*s%s\"",
					 cut, text, cut < len ? "..." : "");
		}
		pdist_report(&err);
	}
	PG_RETURN_DATUM(pdist_make_datum(&d));
}

PG_FUNCTION_INFO_V1(pdist_out);

/*
 * A certain value prints as its outcome alone; anything else as
 * {outcome: probability, ...} in canonical order.  Numbers use float8's
 * output, so extra_float_digits applies as it does to float8.
 */
Datum
pdist_out(PG_FUNCTION_ARGS)
{
	Pdist		d;
	StringInfoData buf;

	pdist_getarg(fcinfo, 0, &d);
	initStringInfo(&buf);

	if (d.n == 1)
	{
		if (d.kind == PDIST_CATEGORICAL)
			append_label(&buf, d.label[0], d.label_len[0]);
		else
			append_component(&buf, &d, 0);
		PG_RETURN_CSTRING(buf.data);
	}

	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < d.n; i++)
	{
		char	   *p;

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		if (d.kind == PDIST_CATEGORICAL)
			append_label(&buf, d.label[i], d.label_len[i]);
		else
			append_component(&buf, &d, i);
		p = float8out_internal(d.prob[i]);
		appendStringInfo(&buf, ": %s", p);
		pfree(p);
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(pdist_send);

/*
 * Binary format: int8 version, int8 kind, int4 n, then per outcome either
 * float8 value, float8 stddev, float8 probability (numeric) or int4 length,
 * label bytes, float8 probability (categorical).  Independent of the
 * stored layout, which may change.
 */
Datum
pdist_send(PG_FUNCTION_ARGS)
{
	Pdist		d;
	StringInfoData buf;

	pdist_getarg(fcinfo, 0, &d);
	pq_begintypsend(&buf);
	pq_sendint8(&buf, PDIST_SEND_VERSION);
	pq_sendint8(&buf, (int8) d.kind);
	pq_sendint32(&buf, d.n);
	for (int i = 0; i < d.n; i++)
	{
		if (d.kind == PDIST_NUMERIC)
		{
			pq_sendfloat8(&buf, d.value[i]);
			pq_sendfloat8(&buf, d.sigma ? d.sigma[i] : 0.0);
		}
		else
			pq_sendcountedtext(&buf, d.label[i], d.label_len[i], false);
		pq_sendfloat8(&buf, d.prob[i]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(pdist_recv);

/*
 * The sender's outcomes need not be canonical: they are validated and
 * canonicalised exactly as text input is.
 */
Datum
pdist_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version;
	int			kind;
	int			n;
	Pdist		d;
	PdistError	err;

	version = pq_getmsgint(buf, 1);
	if (version != PDIST_SEND_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d for type pdist",
						version)));
	kind = pq_getmsgint(buf, 1);
	if (kind != PDIST_NUMERIC && kind != PDIST_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid kind %d in external pdist value", kind)));
	n = pq_getmsgint(buf, 4);
	if (n < 1 || n > PDIST_MAX_OUTCOMES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid number of outcomes %d in external pdist value", n),
				 errdetail("A pdist has between 1 and %d outcomes.",
						   PDIST_MAX_OUTCOMES)));

	pdist_init(&d, (PdistKind) kind, n, kind == PDIST_NUMERIC);
	for (int i = 0; i < n; i++)
	{
		if (kind == PDIST_NUMERIC)
		{
			d.value[i] = pq_getmsgfloat8(buf);
			d.sigma[i] = pq_getmsgfloat8(buf);
		}
		else
		{
			int			len = pq_getmsgint(buf, 4);
			int			nbytes;

			if (len < 0 || len > buf->len - buf->cursor)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid label length %d in external pdist value",
								len)));
			d.label[i] = pq_getmsgtext(buf, len, &nbytes);
			d.label_len[i] = nbytes;
		}
		d.prob[i] = pq_getmsgfloat8(buf);
	}

	if (!pdist_canonicalize(&d, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&d));
}

PG_FUNCTION_INFO_V1(pdist_certain_float8);

/* ttpdb.certain(float8): the distribution that is x with probability 1. */
Datum
pdist_certain_float8(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(0);
	Pdist		d;
	PdistError	err;

	pdist_make_point(&d, x);
	if (!pdist_canonicalize(&d, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&d));
}

PG_FUNCTION_INFO_V1(pdist_certain_text);

/* ttpdb.certain(text): the categorical distribution of one label. */
Datum
pdist_certain_text(PG_FUNCTION_ARGS)
{
	text	   *label = PG_GETARG_TEXT_PP(0);
	Pdist		d;
	PdistError	err;

	pdist_init(&d, PDIST_CATEGORICAL, 1, false);
	d.label[0] = VARDATA_ANY(label);
	d.label_len[0] = VARSIZE_ANY_EXHDR(label);
	d.prob[0] = 1.0;
	if (!pdist_canonicalize(&d, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&d));
}

PG_FUNCTION_INFO_V1(pdist_normal);

/* ttpdb.normal(mean, stddev); stddev 0 gives a certain value. */
Datum
pdist_normal(PG_FUNCTION_ARGS)
{
	double		mean = PG_GETARG_FLOAT8(0);
	double		sd = PG_GETARG_FLOAT8(1);
	Pdist		d;
	PdistError	err;

	if (isnan(sd) || isinf(sd) || sd < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("standard deviation of a normal must be finite and not negative"),
				 errdetail("The value given was %s.", float8out_internal(sd))));
	pdist_init(&d, PDIST_NUMERIC, 1, true);
	d.value[0] = mean;
	d.sigma[0] = sd;
	d.prob[0] = 1.0;
	if (!pdist_canonicalize(&d, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&d));
}

/*
 * Deconstruct a one-dimensional array argument without NULLs, checking its
 * length against "expected" (when >= 0).
 */
static int
get_array_arg(ArrayType *arr, const char *what, int expected, Datum **elems)
{
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array of %s must be one-dimensional", what)));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
					  elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array of %s must not contain nulls", what)));
	if (n > PDIST_MAX_OUTCOMES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a pdist can have at most %d outcomes", PDIST_MAX_OUTCOMES),
				 errdetail("The array of %s has %d elements.", what, n)));
	if (expected >= 0 && n != expected)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array of %s must have as many elements as the array of outcomes",
						what),
				 errdetail("There are %d outcomes and %d %s.", expected, n, what)));
	return n;
}

PG_FUNCTION_INFO_V1(pdist_discrete);

/* ttpdb.discrete(values float8[], probabilities float8[]) */
Datum
pdist_discrete(PG_FUNCTION_ARGS)
{
	Datum	   *values;
	Datum	   *probs;
	int			n;
	Pdist		d;
	PdistError	err;

	n = get_array_arg(PG_GETARG_ARRAYTYPE_P(0), "outcomes", -1, &values);
	get_array_arg(PG_GETARG_ARRAYTYPE_P(1), "probabilities", n, &probs);
	pdist_init(&d, PDIST_NUMERIC, n, false);
	d.n = n;
	for (int i = 0; i < n; i++)
	{
		d.value[i] = DatumGetFloat8(values[i]);
		d.prob[i] = DatumGetFloat8(probs[i]);
	}
	if (!pdist_canonicalize(&d, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&d));
}

PG_FUNCTION_INFO_V1(pdist_categorical);

/* ttpdb.categorical(labels text[], probabilities float8[]) */
Datum
pdist_categorical(PG_FUNCTION_ARGS)
{
	Datum	   *labels;
	Datum	   *probs;
	int			n;
	Pdist		d;
	PdistError	err;

	n = get_array_arg(PG_GETARG_ARRAYTYPE_P(0), "labels", -1, &labels);
	get_array_arg(PG_GETARG_ARRAYTYPE_P(1), "probabilities", n, &probs);
	pdist_init(&d, PDIST_CATEGORICAL, n, false);
	d.n = n;
	for (int i = 0; i < n; i++)
	{
		text	   *t = DatumGetTextPP(labels[i]);

		d.label[i] = VARDATA_ANY(t);
		d.label_len[i] = VARSIZE_ANY_EXHDR(t);
		d.prob[i] = DatumGetFloat8(probs[i]);
	}
	if (!pdist_canonicalize(&d, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&d));
}

PG_FUNCTION_INFO_V1(pdist_mixture_array);

/*
 * ttpdb.mixture(components pdist[], weights float8[])
 *		The mixture that draws component i with probability proportional to
 *		weights[i].  Weights are relative (finite, not negative, not all
 *		zero).  A numeric mixture with more than PDIST_MAX_OUTCOMES distinct
 *		components is reduced to that many, keeping its mean.
 */
Datum
pdist_mixture_array(PG_FUNCTION_ARGS)
{
	Datum	   *comps;
	Datum	   *weights;
	int			ncomp;
	Pdist	   *parts;
	double		total = 0.0;
	int64		n = 0;
	int			k;
	Pdist		d;
	PdistError	err;

	ncomp = get_array_arg(PG_GETARG_ARRAYTYPE_P(0), "components", -1, &comps);
	get_array_arg(PG_GETARG_ARRAYTYPE_P(1), "weights", ncomp, &weights);
	if (ncomp == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a mixture needs at least one component")));

	parts = palloc(sizeof(Pdist) * ncomp);
	for (int i = 0; i < ncomp; i++)
	{
		double		w = DatumGetFloat8(weights[i]);

		if (isnan(w) || isinf(w) || w < 0.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mixture weights must be finite and not negative"),
					 errdetail("Weight %d is %s.", i + 1, float8out_internal(w))));
		total += w;
		pdist_from_flat(DatumGetPdistFlat(comps[i]), &parts[i]);
		if (parts[i].kind != parts[0].kind)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot combine a numeric and a categorical pdist")));
		n += parts[i].n;
	}
	if (!(total > 0.0) || isinf(total))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mixture weights must not all be zero")));

	if (n > PDIST_MAX_MIXTURE_INPUT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a mixture can merge at most %d outcomes", PDIST_MAX_MIXTURE_INPUT),
				 errdetail("Its components have %lld outcomes in all.", (long long) n),
				 errhint("Use the ttpdb.mixture() aggregate for larger mixtures.")));
	pdist_init(&d, parts[0].kind, (int) n, parts[0].kind == PDIST_NUMERIC);
	k = 0;
	for (int i = 0; i < ncomp; i++)
	{
		double		w = DatumGetFloat8(weights[i]) / total;

		for (int j = 0; j < parts[i].n; j++, k++)
		{
			d.prob[k] = w * parts[i].prob[j];
			if (d.kind == PDIST_NUMERIC)
			{
				d.value[k] = parts[i].value[j];
				d.sigma[k] = parts[i].sigma ? parts[i].sigma[j] : 0.0;
			}
			else
			{
				d.label[k] = parts[i].label[j];
				d.label_len[k] = parts[i].label_len[j];
			}
		}
	}
	d.n = k;
	if (!pdist_canonicalize_capped(&d, PDIST_MAX_OUTCOMES, &err))
		pdist_report(&err);
	PG_RETURN_DATUM(pdist_make_datum(&d));
}
