--
-- create_extension: the extension installs, drops and reinstalls cleanly,
-- and its settings exist with their documented defaults.
-- (pg_regress created the extension with --load-extension=ttpdb.)
--
SELECT e.extname, e.extversion, n.nspname AS schema, e.extrelocatable
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'ttpdb';

-- The library matches the installed scripts.
SELECT ttpdb.library_version() AS library,
       (SELECT extversion FROM pg_extension WHERE extname = 'ttpdb') AS extension,
       current_setting('ttpdb.version') AS setting;

-- The regression server preloads the library.
SELECT ttpdb.preloaded();

-- Every ttpdb setting, with its default and who may change it.
SELECT name, setting, boot_val, context, vartype, short_desc
FROM pg_settings WHERE name LIKE 'ttpdb.%' ORDER BY name;

-- ttpdb.version is read-only.
SET ttpdb.version = '9.9';

-- The ttpdb.* prefix is reserved: a misspelt setting is an error, not a
-- silently ignored placeholder.
SET ttpdb.versoin = '0.1';
SELECT current_setting('ttpdb.no_such_setting', true) IS NULL AS unknown_is_null;

-- Creating it twice fails; IF NOT EXISTS does not.
CREATE EXTENSION ttpdb;
CREATE EXTENSION IF NOT EXISTS ttpdb;

-- The extension's schema cannot be chosen: it is always ttpdb.
DROP EXTENSION ttpdb;
CREATE EXTENSION ttpdb SCHEMA public;

-- Dropping removes every object; the empty schema stays, as with any
-- extension whose control file names its schema.
SELECT (SELECT count(*) FROM pg_proc WHERE pronamespace = 'ttpdb'::regnamespace) AS functions_left,
       (SELECT count(*) FROM pg_type WHERE typnamespace = 'ttpdb'::regnamespace) AS types_left,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'ttpdb'::regnamespace) AS relations_left;
SELECT ttpdb.preloaded();

-- And it comes back.
CREATE EXTENSION ttpdb;
SELECT ttpdb.library_version();
