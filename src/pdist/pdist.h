/*-------------------------------------------------------------------------
 *
 * pdist.h
 *	  Probability distributions as values: the stored layout of type pdist
 *	  and the server-independent core that parses, canonicalises and
 *	  computes with it.
 *
 * The core (pdist_parse.c, pdist_canon.c, pdist_math.c, pdist_arith.c)
 * includes no PostgreSQL header, so test/fuzz can link it without a server.
 * It reports errors through PdistError rather than ereport, and takes its
 * memory from pdist_alloc(), which the server glue maps to palloc0 (so the
 * current memory context owns everything) and the fuzz harness to calloc.
 * The SQL-callable glue is declared in pdist_sql.h.
 *
 * A distribution is one of two kinds:
 *
 *	PDIST_NUMERIC		n weighted components over float8.  Component i is a
 *						point mass at value[i] when sigma[i] == 0, and a
 *						normal(value[i], sigma[i]) density when sigma[i] > 0.
 *						A discrete distribution has only point masses (and
 *						then sigma == NULL); a normal is one component with
 *						sigma > 0; anything else is a mixture.
 *	PDIST_CATEGORICAL	n text labels with their probabilities.
 *
 * Canonical form, which every stored value is in:
 *	- 1 <= n <= PDIST_MAX_OUTCOMES;
 *	- every prob[i] is finite and > 0 (zero-probability outcomes are
 *	  dropped), and the probabilities sum to 1 (they were renormalised by
 *	  their compensated sum, which had to be within PDIST_SUM_TOLERANCE
 *	  of 1);
 *	- numeric: every value[i] finite (-0 stored as 0), every sigma[i]
 *	  finite and >= 0; components sorted by (value, sigma), equal pairs
 *	  merged; sigma == NULL exactly when every component is a point mass;
 *	- categorical: labels of at most PDIST_MAX_LABEL_BYTES bytes, sorted
 *	  by bytes (memcmp, then length: the C collation), equal labels merged.
 * Two values are equal exactly when their canonical forms are identical.
 *
 * src/pdist/pdist.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PDIST_H
#define PDIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits and tolerances (all documented in doc/reference.md). */
#define PDIST_MAX_OUTCOMES		10000	/* outcomes in one value */
#define PDIST_MAX_LABEL_BYTES	1024	/* bytes in one categorical label */
#define PDIST_SUM_TOLERANCE		1e-6	/* |sum(prob) - 1| accepted on input */
#define PDIST_MAX_SUPPORT		1000	/* cap on arithmetic results' components */
#define PDIST_DISCRETIZE_BINS	64		/* bins per normal component when an
										 * operation needs a discrete form */

typedef enum PdistKind
{
	PDIST_NUMERIC = 1,
	PDIST_CATEGORICAL = 2
} PdistKind;

/*
 * A distribution in memory.  Either it owns its arrays (built by pdist_init
 * and the operations below, all allocated with pdist_alloc) or it is a
 * read-only view into a PdistFlat made by pdist_from_flat.
 */
typedef struct Pdist
{
	PdistKind	kind;
	int			n;				/* number of outcomes or components */
	double	   *prob;			/* n probabilities (mixture weights) */
	double	   *value;			/* numeric: point, or mean of a normal */
	double	   *sigma;			/* numeric: n stddevs, or NULL if all 0 */
	const char **label;			/* categorical: n labels, not NUL-ended */
	int		   *label_len;		/* categorical: their lengths in bytes */
} Pdist;

/*
 * The stored layout (the varlena body of type pdist).  The 16-byte header
 * keeps the double arrays 8-byte aligned (the type has double alignment),
 * so numeric functions read them in place without copying.
 *
 * After the header:
 *	double	prob[n];
 *	numeric:		double value[n]; and, if PDIST_FLAG_SIGMA, double sigma[n];
 *	categorical:	uint32 label_end[n]; (end offset of label i in the label
 *					area, which follows) char labels[label_end[n-1]];
 */
#define PDIST_FLAT_VERSION	1
#define PDIST_FLAG_SIGMA	0x0001

typedef struct PdistFlat
{
	int32_t		vl_len_;		/* varlena header: the caller's business */
	uint8_t		version;		/* PDIST_FLAT_VERSION */
	uint8_t		kind;			/* PdistKind */
	uint16_t	flags;			/* PDIST_FLAG_* */
	int32_t		n;
	int32_t		reserved;		/* always 0 */
} PdistFlat;

#define PDIST_FLAT_HEADER_SIZE	sizeof(PdistFlat)

/* Errors: the glue maps each status to a SQLSTATE. */
typedef enum PdistStatus
{
	PDIST_OK = 0,
	PDIST_ERR_SYNTAX,			/* malformed text (22P02) */
	PDIST_ERR_OUTCOME,			/* outcome NaN/infinite, label too long,
								 * negative stddev (22023) */
	PDIST_ERR_PROBABILITY,		/* probability negative, non-finite, or the
								 * sum is not 1 (22023) */
	PDIST_ERR_LIMIT,			/* too many outcomes (54000) */
	PDIST_ERR_KIND,				/* operation undefined for this kind, or
								 * numeric and categorical mixed (42804) */
	PDIST_ERR_ARGUMENT,			/* bad scalar argument (22023) */
	PDIST_ERR_RANGE,			/* arithmetic result out of range (22003) */
	PDIST_ERR_CORRUPT			/* invalid binary form (22P03) */
} PdistStatus;

typedef struct PdistError
{
	PdistStatus status;
	char		message[256];
	char		detail[256];	/* may be empty */
	char		hint[256];		/* may be empty */
} PdistError;

/*
 * Provided by whoever embeds the core: zeroed memory, and a chance to honour
 * a cancel request in long loops (the server maps it to CHECK_FOR_INTERRUPTS,
 * which may not return).
 */
extern void *pdist_alloc(size_t size);
extern void pdist_free(void *ptr);
extern void pdist_check_interrupts(void);

/*
 * Helpers the core's files share (defined in pdist_canon.c): compensated
 * (Neumaier) summation, the C-collation label order, and filling an error.
 */
typedef struct PdistSum
{
	double		sum;
	double		comp;
} PdistSum;

extern void pdist_sum_add(PdistSum *acc, double x);
extern double pdist_sum_result(const PdistSum *acc);
extern double pdist_sum_probability(const PdistSum *acc);
extern int	pdist_label_cmp(const char *a, int alen, const char *b, int blen);
extern void pdist_set_error(PdistError *err, PdistStatus status,
							const char *message, const char *detail,
							const char *hint);

/* pdist_parse.c */
extern bool pdist_parse(const char *text, Pdist *out, PdistError *err);

/* pdist_canon.c: building, canonical form, stored layout, ordering */
extern void pdist_init(Pdist *d, PdistKind kind, int n, bool with_sigma);
extern void pdist_make_point(Pdist *d, double x);
extern bool pdist_canonicalize(Pdist *d, PdistError *err);
extern size_t pdist_flat_size(const Pdist *d);
extern void pdist_flatten(const Pdist *d, PdistFlat *flat);
extern void pdist_from_flat(const PdistFlat *flat, Pdist *d);
extern bool pdist_check_flat(const PdistFlat *flat, size_t size,
							 PdistError *err);
extern int	pdist_compare(const Pdist *a, const Pdist *b);
extern bool pdist_is_continuous(const Pdist *d);

/*
 * Internal to the core (the glue has no use for them):
 * pdist_canonicalize_capped canonicalises an intermediate result that may
 * have more than PDIST_MAX_OUTCOMES components (sums, products,
 * discretisations) and then reduces a numeric one with pdist_cap_support;
 * pdist_copy makes an owned copy whose labels share d's label bytes.
 */
extern bool pdist_canonicalize_capped(Pdist *d, int max_support,
									  PdistError *err);
extern void pdist_copy(const Pdist *d, Pdist *out);
extern void pdist_free_arrays(Pdist *d);

/* pdist_math.c: properties of one distribution (numeric unless noted) */
extern double pdist_mean(const Pdist *d);
extern double pdist_variance(const Pdist *d);
extern double pdist_prob_point(const Pdist *d, double x);
extern double pdist_prob_label(const Pdist *d, const char *label, int len);
extern double pdist_cdf(const Pdist *d, double x);
extern double pdist_cdf_below(const Pdist *d, double x);
extern double pdist_prob_above(const Pdist *d, double x);
extern double pdist_prob_at_or_above(const Pdist *d, double x);
extern double pdist_quantile(const Pdist *d, double p);
extern bool pdist_entropy(const Pdist *d, double base, double *result,
						  PdistError *err);
extern int	pdist_mode_index(const Pdist *d);
extern double pdist_mode_value(const Pdist *d);
extern void pdist_collapse(const Pdist *d, double threshold, Pdist *out);
extern void pdist_top_k(const Pdist *d, int k, Pdist *out);
extern void pdist_discretize(const Pdist *d, int bins, Pdist *out);
extern void pdist_cap_support(Pdist *d, int max_support);
extern void pdist_sample_values(const Pdist *d, uint64_t seed, int count,
								double *out);
extern void pdist_sample_indexes(const Pdist *d, uint64_t seed, int count,
								 int *out);
extern double pdist_student_t_quantile(double p, double df);
extern double pdist_normal_quantile(double p);
extern char *pdist_histogram(const Pdist *d, int width);

/* pdist_arith.c: independent arithmetic, mixtures, comparisons */
extern void pdist_affine(const Pdist *a, double scale, double shift,
						 Pdist *out);
extern bool pdist_add(const Pdist *a, const Pdist *b, int max_support,
					  Pdist *out, PdistError *err);
extern bool pdist_multiply(const Pdist *a, const Pdist *b, int max_support,
						   Pdist *out, PdistError *err);
extern bool pdist_mix(const Pdist *a, const Pdist *b, double weight_a,
					  Pdist *out, PdistError *err);
extern bool pdist_interpolate(const Pdist *a, const Pdist *b, double t,
							  int max_support, Pdist *out, PdistError *err);
extern double pdist_prob_greater(const Pdist *a, const Pdist *b);
extern double pdist_prob_equal(const Pdist *a, const Pdist *b);

#endif							/* PDIST_H */
