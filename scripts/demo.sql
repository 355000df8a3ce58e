-- scripts/demo.sql: the guided tour run by scripts/demo.sh.
-- Each step says what it shows, then runs it.
\set ECHO none
\pset footer off

\echo
\echo '== ttpdb guided tour'
\echo
\echo 'The server was started with shared_preload_libraries = '"'"'ttpdb'"'"'.'
\echo 'Install the extension in this database:'
\echo
\echo '    CREATE EXTENSION ttpdb;'
CREATE EXTENSION ttpdb;
\echo
\echo 'ttpdb is installed in its own schema.  Put it on your search_path to'
\echo 'use its types, functions and operators without qualifying them:'
\echo
\echo '    SET search_path = public, ttpdb;'
SET search_path = public, ttpdb;

\echo
\echo 'Which library is loaded, and are the hook-based features available?'
SELECT ttpdb.library_version() AS library, ttpdb.preloaded() AS preloaded;
