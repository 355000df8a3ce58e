/*-------------------------------------------------------------------------
 *
 * ttpdb.h
 *	  Module-wide declarations: the library version and the preload check
 *	  shared by every part of ttpdb.
 *
 * IDENTIFICATION
 *	  src/ttpdb.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TTPDB_H
#define TTPDB_H

/* Keep in step with default_version in ttpdb.control. */
#define TTPDB_VERSION "0.8"

extern bool ttpdb_is_preloaded(void);
extern void ttpdb_require_preload(const char *feature);

#endif							/* TTPDB_H */
