/* ttpdb 0.1: install script.  Run by CREATE EXTENSION ttpdb. */

\echo Use "CREATE EXTENSION ttpdb" to load this file. \quit

COMMENT ON SCHEMA ttpdb IS 'ttpdb: time-travel probabilistic database';

CREATE FUNCTION ttpdb.library_version() RETURNS text
	AS 'MODULE_PATHNAME', 'ttpdb_library_version'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.library_version() IS
	'Version of the ttpdb shared library loaded by this backend';

CREATE FUNCTION ttpdb.preloaded() RETURNS boolean
	AS 'MODULE_PATHNAME', 'ttpdb_preloaded'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.preloaded() IS
	'Whether ttpdb was loaded through shared_preload_libraries (needed by the temporal access method and the statement log)';
