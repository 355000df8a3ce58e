/*-------------------------------------------------------------------------
 *
 * ttpdb.c
 *	  Module entry point: _PG_init, the ttpdb.* settings, and the check that
 *	  features needing shared_preload_libraries make before they run.
 *
 * Distributions (type pdist) work whether or not the library was preloaded:
 * the type must be readable on any server a dump is restored into.  The
 * features that rely on shared memory and hooks (the ttpdb access method,
 * whose commit stamps need a shared lock, and the statement log) call
 * ttpdb_require_preload() first, so a missing postgresql.conf line is a
 * clear error with a hint, never silently unrecorded history.
 *
 * IDENTIFICATION
 *	  src/ttpdb.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "ttpdb.h"
#include "log/log.h"
#include "tam/tam.h"

PG_MODULE_MAGIC;

/* Whether _PG_init ran while shared_preload_libraries was being processed. */
static bool ttpdb_loaded_at_startup = false;

/* Backing variable of the read-only setting ttpdb.version. */
static char *ttpdb_version_setting = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	ttpdb_loaded_at_startup = process_shared_preload_libraries_in_progress;

	DefineCustomStringVariable("ttpdb.version",
							   "Version of the loaded ttpdb library.",
							   "Compare with the extversion of ttpdb in pg_extension "
							   "after an upgrade.",
							   &ttpdb_version_setting,
							   TTPDB_VERSION,
							   PGC_INTERNAL,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   NULL, NULL, NULL);

	/* before ttpdb_asof_init: its hook resets ttpdb.as_of around this one */
	ttpdb_alter_init();
	ttpdb_twophase_init();
	ttpdb_asof_init();
	history_pack_init();
	ttpdb_log_init();
	ttpdb_commit_register_callbacks();
	if (process_shared_preload_libraries_in_progress)
	{
		/* a shared-memory size can only be defined while preloading */
		stamp_cache_init();
		ttpdb_commit_install_hooks();
	}

	/* A misspelt ttpdb.* setting is an error, not a silent placeholder. */
	MarkGUCPrefixReserved("ttpdb");
}

/*
 * ttpdb_is_preloaded
 *		True when the library was loaded through shared_preload_libraries.
 */
bool
ttpdb_is_preloaded(void)
{
	return ttpdb_loaded_at_startup;
}

/*
 * ttpdb_require_preload
 *		Refuse to run a feature whose hooks are only installed when the
 *		library is preloaded; "feature" names it in the message.
 */
void
ttpdb_require_preload(const char *feature)
{
	if (!ttpdb_loaded_at_startup)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires ttpdb to be loaded via shared_preload_libraries",
						feature),
				 errhint("Add ttpdb to shared_preload_libraries in postgresql.conf "
						 "(shared_preload_libraries = 'ttpdb') and restart the server.")));
}

PG_FUNCTION_INFO_V1(ttpdb_library_version);

/*
 * ttpdb.library_version() returns text
 *		The version of the shared library this backend loaded, which can
 *		differ from the installed extension's version until
 *		ALTER EXTENSION ttpdb UPDATE is run.
 */
Datum
ttpdb_library_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(TTPDB_VERSION));
}

PG_FUNCTION_INFO_V1(ttpdb_preloaded);

/*
 * ttpdb.preloaded() returns boolean
 *		Whether the features that need shared_preload_libraries are usable.
 */
Datum
ttpdb_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ttpdb_loaded_at_startup);
}
