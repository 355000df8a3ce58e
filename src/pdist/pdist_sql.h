/*-------------------------------------------------------------------------
 *
 * pdist_sql.h
 *	  What the SQL-callable pdist functions share: fetching a pdist
 *	  argument, returning a computed one, and turning a core PdistError
 *	  into an ereport with the right SQLSTATE.
 *
 * Kept apart from pdist.h because the core must compile without server
 * headers (see test/fuzz).
 *
 * IDENTIFICATION
 *	  src/pdist/pdist_sql.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PDIST_SQL_H
#define PDIST_SQL_H

#include "fmgr.h"

#include "pdist.h"

/* A detoasted pdist argument in its stored layout. */
#define DatumGetPdistFlat(x)	((PdistFlat *) PG_DETOAST_DATUM(x))
#define PG_GETARG_PDIST_FLAT(n)	DatumGetPdistFlat(PG_GETARG_DATUM(n))

/* pdist_io.c */
extern void pdist_report(const PdistError *err);
extern void pdist_getarg(FunctionCallInfo fcinfo, int argno, Pdist *d);
extern Datum pdist_make_datum(const Pdist *d);
extern void pdist_require_numeric(const Pdist *d, const char *operation);
extern void pdist_check_probability_arg(double p, const char *what,
										bool allow_zero, bool allow_one);

/* pdist_ops.c */
extern void pdist_divide(const Pdist *d, double x, Pdist *out);

#endif							/* PDIST_SQL_H */
