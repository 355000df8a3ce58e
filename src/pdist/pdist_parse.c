/*-------------------------------------------------------------------------
 *
 * pdist_parse.c
 *	  The text input syntax of type pdist.
 *
 * The grammar (whitespace is space, tab, newline and carriage return):
 *
 *	input	:= ws body ws EOF
 *	body	:= outcome | '{' ws entry (ws ',' ws entry)* ws '}'
 *	entry	:= outcome ws ':' ws number		-- number: the probability
 *	outcome := number | string | normal
 *	normal	:= 'normal' ws '(' ws number ws ',' ws number ws ')'
 *	string	:= '"' bytes '"'				-- escapes \" and \\ only
 *
 * A bare outcome is certain.  Numbers are decimal as strtod reads them,
 * without hexadecimal, infinity or NaN; they are scanned here first so that
 * strtod only ever sees a span we accept.  The result is put into canonical
 * form by pdist_canonicalize.
 *
 * src/pdist/pdist_parse.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdist.h"

/* how much of the input a syntax error message quotes */
#define PDIST_QUOTE_BYTES	60

/* what a number stands for, which decides the error for a non-finite one */
typedef enum NumberRole
{
	ROLE_OUTCOME,
	ROLE_PROBABILITY,
	ROLE_STDDEV
} NumberRole;

typedef enum ScanResult
{
	SCAN_OK,
	SCAN_ABSENT,				/* nothing of the kind here; nothing consumed */
	SCAN_ERROR					/* error reported */
} ScanResult;

/* one parsed outcome before its probability is known */
typedef struct Outcome
{
	PdistKind	kind;
	double		value;
	double		sigma;
	const char *label;
	int			label_len;
} Outcome;

typedef struct ParseState
{
	const char *text;			/* the whole input, for messages */
	const char *p;				/* next byte to read */
	PdistError *err;

	PdistKind	kind;			/* 0 until the first outcome */
	int			n;
	int			capacity;
	double	   *prob;
	double	   *value;
	double	   *sigma;
	bool		any_sigma;
	const char **label;
	int		   *label_len;

	char	   *label_buf;		/* unescaped label bytes, all labels */
	size_t		label_used;
} ParseState;

static void syntax_error(ParseState *st, const char *detail);
static void expected(ParseState *st, const char *what);
static size_t position(const ParseState *st, const char *at);
static bool is_digit(char c);
static bool is_alpha(char c);
static void skip_ws(ParseState *st);
static bool word_is(const char *word, size_t len, const char *lower);
static bool starts_with_word(const char *p, const char *lower);
static void not_finite(ParseState *st, NumberRole role);
static ScanResult scan_number(ParseState *st, NumberRole role,
							  double *result);
static ScanResult scan_label(ParseState *st, Outcome *o);
static ScanResult scan_normal(ParseState *st, Outcome *o);
static ScanResult scan_outcome(ParseState *st, Outcome *o);
static bool check_kind(ParseState *st, const Outcome *o);
static bool add_entry(ParseState *st, const Outcome *o, double prob);
static bool grow(ParseState *st);

/*
 * Report a syntax error, quoting at most PDIST_QUOTE_BYTES of the input.
 * The cut backs off to the start of a UTF-8 character so the message stays
 * valid in the common server encoding.
 */
static void
syntax_error(ParseState *st, const char *detail)
{
	char		message[sizeof(st->err->message)];
	size_t		len = strlen(st->text);
	const char *ellipsis = "";

	if (len > PDIST_QUOTE_BYTES)
	{
		len = PDIST_QUOTE_BYTES;
		while (len > 0 && (((unsigned char) st->text[len]) & 0xC0) == 0x80)
			len--;
		ellipsis = "...";
	}
	snprintf(message, sizeof(message),
			 "invalid input syntax for type pdist: \"%.*s%s\"",
			 (int) len, st->text, ellipsis);
	pdist_set_error(st->err, PDIST_ERR_SYNTAX, message, detail, NULL);
}

/* 1-based byte offset of at in the input */
static size_t
position(const ParseState *st, const char *at)
{
	return (size_t) (at - st->text) + 1;
}

static void
expected(ParseState *st, const char *what)
{
	char		detail[128];

	snprintf(detail, sizeof(detail), "Expected %s at position %zu.",
			 what, position(st, st->p));
	syntax_error(st, detail);
}

/* ASCII only: the server's locale must not change the syntax */
static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void
skip_ws(ParseState *st)
{
	while (*st->p == ' ' || *st->p == '\t' || *st->p == '\n' ||
		   *st->p == '\r')
		st->p++;
}

/* Whether word[0..len) is the lower-case word lower, ignoring ASCII case. */
static bool
word_is(const char *word, size_t len, const char *lower)
{
	size_t		i;

	if (strlen(lower) != len)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = word[i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != lower[i])
			return false;
	}
	return true;
}

/* Whether p starts with the lower-case word lower, ignoring ASCII case. */
static bool
starts_with_word(const char *p, const char *lower)
{
	size_t		i;

	/* stops at the input's NUL, which matches no letter of lower */
	for (i = 0; lower[i] != '\0'; i++)
	{
		char		c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != lower[i])
			return false;
	}
	return true;
}

static void
not_finite(ParseState *st, NumberRole role)
{
	switch (role)
	{
		case ROLE_OUTCOME:
			pdist_set_error(st->err, PDIST_ERR_OUTCOME,
							"pdist outcome must be finite", NULL, NULL);
			break;
		case ROLE_PROBABILITY:
			pdist_set_error(st->err, PDIST_ERR_PROBABILITY,
							"probability of a pdist outcome must be finite and not negative",
							NULL, NULL);
			break;
		case ROLE_STDDEV:
			pdist_set_error(st->err, PDIST_ERR_OUTCOME,
							"standard deviation of a normal must be finite and not negative",
							NULL, NULL);
			break;
	}
}

/*
 * Scan a decimal number: [sign] digits [. digits] [e [sign] digits], with
 * at least one digit in the mantissa.  The words inf, infinity and nan are
 * recognised only to give a better error than a syntax error.
 */
static ScanResult
scan_number(ParseState *st, NumberRole role, double *result)
{
	const char *start = st->p;
	const char *q = start;
	char	   *end;
	int			digits = 0;
	double		x;

	if (*q == '+' || *q == '-')
		q++;
	while (is_digit(*q))
	{
		q++;
		digits++;
	}
	if (*q == '.')
	{
		q++;
		while (is_digit(*q))
		{
			q++;
			digits++;
		}
	}

	if (digits == 0)
	{
		const char *word = start;
		size_t		len = 0;

		if (*word == '+' || *word == '-')
			word++;
		while (is_alpha(word[len]))
			len++;
		if (word_is(word, len, "inf") || word_is(word, len, "infinity") ||
			word_is(word, len, "nan"))
		{
			not_finite(st, role);
			return SCAN_ERROR;
		}
		return SCAN_ABSENT;
	}

	if (*q == 'e' || *q == 'E')
	{
		const char *e = q + 1;

		if (*e == '+' || *e == '-')
			e++;
		if (!is_digit(*e))
		{
			char		detail[128];

			snprintf(detail, sizeof(detail),
					 "Expected digits in the exponent at position %zu.",
					 position(st, e));
			syntax_error(st, detail);
			return SCAN_ERROR;
		}
		while (is_digit(*e))
			e++;
		q = e;
	}

	/*
	 * strtod reads more than we accept only for hexadecimal ("0x1p3"), whose
	 * scan stopped after the "0".  The server runs with LC_NUMERIC=C, so the
	 * decimal point is '.'.
	 */
	x = strtod(start, &end);
	if (end != q)
	{
		char		detail[128];

		snprintf(detail, sizeof(detail),
				 "Invalid number at position %zu; only decimal numbers are accepted.",
				 position(st, start));
		syntax_error(st, detail);
		return SCAN_ERROR;
	}
	if (!isfinite(x))
	{
		/* overflow: strtod returned HUGE_VAL */
		not_finite(st, role);
		return SCAN_ERROR;
	}

	st->p = q;
	*result = x;
	return SCAN_OK;
}

/*
 * Scan a quoted label into the label buffer.  Labels are raw bytes (any
 * byte but NUL, which ends the input); \" and \\ are the only escapes.
 */
static ScanResult
scan_label(ParseState *st, Outcome *o)
{
	const char *start = st->p;
	const char *q = start + 1;
	char	   *out;
	size_t		len = 0;
	char		detail[128];

	if (*start != '"')
		return SCAN_ABSENT;

	/* all labels together are shorter than the input */
	if (st->label_buf == NULL)
		st->label_buf = pdist_alloc(strlen(st->text) + 1);
	out = st->label_buf + st->label_used;

	for (;;)
	{
		char		c = *q;

		if (c == '\0')
		{
			snprintf(detail, sizeof(detail),
					 "Unterminated quoted label starting at position %zu.",
					 position(st, start));
			syntax_error(st, detail);
			return SCAN_ERROR;
		}
		if (c == '"')
			break;
		if (c == '\\')
		{
			if (q[1] != '"' && q[1] != '\\')
			{
				snprintf(detail, sizeof(detail),
						 "Invalid escape sequence at position %zu. Only \\\" and \\\\ are allowed in a quoted label.",
						 position(st, q));
				syntax_error(st, detail);
				return SCAN_ERROR;
			}
			q++;
			c = *q;
		}
		if (len >= PDIST_MAX_LABEL_BYTES)
		{
			char		message[64];

			snprintf(message, sizeof(message),
					 "pdist label exceeds %d bytes", PDIST_MAX_LABEL_BYTES);
			snprintf(detail, sizeof(detail),
					 "The label starting at position %zu is too long.",
					 position(st, start));
			pdist_set_error(st->err, PDIST_ERR_OUTCOME, message, detail, NULL);
			return SCAN_ERROR;
		}
		out[len++] = c;
		q++;
	}

	st->p = q + 1;
	st->label_used += len;
	o->kind = PDIST_CATEGORICAL;
	o->label = out;
	o->label_len = (int) len;
	return SCAN_OK;
}

/* Scan normal(mean, stddev); the keyword has been seen but not consumed. */
static ScanResult
scan_normal(ParseState *st, Outcome *o)
{
	double		mean;
	double		sd;
	ScanResult	r;

	st->p += strlen("normal");
	skip_ws(st);
	if (*st->p != '(')
	{
		expected(st, "\"(\" after \"normal\"");
		return SCAN_ERROR;
	}
	st->p++;
	skip_ws(st);

	r = scan_number(st, ROLE_OUTCOME, &mean);
	if (r == SCAN_ABSENT)
		expected(st, "the mean of a normal");
	if (r != SCAN_OK)
		return SCAN_ERROR;
	skip_ws(st);
	if (*st->p != ',')
	{
		expected(st, "\",\" after the mean of a normal");
		return SCAN_ERROR;
	}
	st->p++;
	skip_ws(st);

	r = scan_number(st, ROLE_STDDEV, &sd);
	if (r == SCAN_ABSENT)
		expected(st, "the standard deviation of a normal");
	if (r != SCAN_OK)
		return SCAN_ERROR;
	if (sd < 0.0)
	{
		not_finite(st, ROLE_STDDEV);
		return SCAN_ERROR;
	}
	skip_ws(st);
	if (*st->p != ')')
	{
		expected(st, "\")\"");
		return SCAN_ERROR;
	}
	st->p++;

	o->kind = PDIST_NUMERIC;
	o->value = mean;
	o->sigma = sd;
	return SCAN_OK;
}

static ScanResult
scan_outcome(ParseState *st, Outcome *o)
{
	memset(o, 0, sizeof(Outcome));

	if (*st->p == '"')
		return scan_label(st, o);

	if (starts_with_word(st->p, "normal"))
		return scan_normal(st, o);

	o->kind = PDIST_NUMERIC;
	return scan_number(st, ROLE_OUTCOME, &o->value);
}

/* Make room for one more entry, doubling up to the outcome limit. */
static bool
grow(ParseState *st)
{
	int			newcap;
	double	   *prob;

	if (st->n < st->capacity)
		return true;

	if (st->n >= PDIST_MAX_OUTCOMES)
	{
		char		message[64];

		snprintf(message, sizeof(message),
				 "a pdist can have at most %d outcomes", PDIST_MAX_OUTCOMES);
		pdist_set_error(st->err, PDIST_ERR_LIMIT, message, NULL, NULL);
		return false;
	}

	newcap = (st->capacity == 0) ? 8 : st->capacity * 2;
	if (newcap > PDIST_MAX_OUTCOMES)
		newcap = PDIST_MAX_OUTCOMES;

	prob = pdist_alloc((size_t) newcap * sizeof(double));
	if (st->n > 0)
		memcpy(prob, st->prob, (size_t) st->n * sizeof(double));
	if (st->prob != NULL)
		pdist_free(st->prob);
	st->prob = prob;

	if (st->kind == PDIST_CATEGORICAL)
	{
		const char **label;
		int		   *label_len;

		label = pdist_alloc((size_t) newcap * sizeof(const char *));
		label_len = pdist_alloc((size_t) newcap * sizeof(int));

		if (st->n > 0)
		{
			memcpy(label, st->label, (size_t) st->n * sizeof(const char *));
			memcpy(label_len, st->label_len, (size_t) st->n * sizeof(int));
		}
		if (st->label != NULL)
		{
			pdist_free((void *) st->label);
			pdist_free(st->label_len);
		}
		st->label = label;
		st->label_len = label_len;
	}
	else
	{
		double	   *value = pdist_alloc((size_t) newcap * sizeof(double));
		double	   *sigma = pdist_alloc((size_t) newcap * sizeof(double));

		if (st->n > 0)
		{
			memcpy(value, st->value, (size_t) st->n * sizeof(double));
			memcpy(sigma, st->sigma, (size_t) st->n * sizeof(double));
		}
		if (st->value != NULL)
		{
			pdist_free(st->value);
			pdist_free(st->sigma);
		}
		st->value = value;
		st->sigma = sigma;
	}
	st->capacity = newcap;
	return true;
}

/* The first outcome decides the kind; the others must agree. */
static bool
check_kind(ParseState *st, const Outcome *o)
{
	if (st->kind == 0)
		st->kind = o->kind;
	else if (st->kind != o->kind)
	{
		pdist_set_error(st->err, PDIST_ERR_KIND,
						"cannot mix numeric and categorical outcomes in one pdist",
						NULL, NULL);
		return false;
	}
	return true;
}

static bool
add_entry(ParseState *st, const Outcome *o, double prob)
{
	if (!grow(st))
		return false;

	st->prob[st->n] = prob;
	if (o->kind == PDIST_CATEGORICAL)
	{
		st->label[st->n] = o->label;
		st->label_len[st->n] = o->label_len;
	}
	else
	{
		st->value[st->n] = o->value;
		st->sigma[st->n] = o->sigma;
		if (o->sigma > 0.0)
			st->any_sigma = true;
	}
	st->n++;
	return true;
}

/*
 * pdist_parse
 *		Parse text as a pdist into out (owned, canonical).
 *
 * On failure returns false with err filled; out is then unspecified.
 * Syntax error details give 1-based byte positions.
 */
bool
pdist_parse(const char *text, Pdist *out, PdistError *err)
{
	ParseState	st;
	Outcome		o;
	ScanResult	r;

	memset(out, 0, sizeof(Pdist));
	memset(&st, 0, sizeof(ParseState));
	st.text = text;
	st.p = text;
	st.err = err;

	skip_ws(&st);
	if (*st.p == '{')
	{
		st.p++;
		skip_ws(&st);
		if (*st.p == '}')
		{
			pdist_set_error(err, PDIST_ERR_OUTCOME,
							"a pdist must have at least one outcome", NULL, NULL);
			return false;
		}
		for (;;)
		{
			double		prob;

			r = scan_outcome(&st, &o);
			if (r == SCAN_ABSENT)
				expected(&st, "an outcome");
			if (r != SCAN_OK)
				return false;
			if (!check_kind(&st, &o))
				return false;

			skip_ws(&st);
			if (*st.p != ':')
			{
				expected(&st, "\":\" after an outcome");
				return false;
			}
			st.p++;
			skip_ws(&st);

			r = scan_number(&st, ROLE_PROBABILITY, &prob);
			if (r == SCAN_ABSENT)
				expected(&st, "a probability");
			if (r != SCAN_OK)
				return false;
			if (!add_entry(&st, &o, prob))
				return false;

			skip_ws(&st);
			if (*st.p == ',')
			{
				st.p++;
				skip_ws(&st);
				continue;
			}
			if (*st.p == '}')
			{
				st.p++;
				break;
			}
			expected(&st, "\",\" or \"}\"");
			return false;
		}
	}
	else
	{
		r = scan_outcome(&st, &o);
		if (r == SCAN_ABSENT)
			expected(&st, "a number, a quoted label, normal(...) or \"{\"");
		if (r != SCAN_OK)
			return false;
		if (!check_kind(&st, &o) || !add_entry(&st, &o, 1.0))
			return false;
	}

	skip_ws(&st);
	if (*st.p != '\0')
	{
		expected(&st, "end of input");
		return false;
	}

	out->kind = st.kind;
	out->n = st.n;
	out->prob = st.prob;
	if (st.kind == PDIST_CATEGORICAL)
	{
		out->label = st.label;
		out->label_len = st.label_len;
	}
	else
	{
		out->value = st.value;
		out->sigma = st.any_sigma ? st.sigma : NULL;
	}
	return pdist_canonicalize(out, err);
}
