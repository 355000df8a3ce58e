--
-- conventions: rules every object of the extension follows, checked from
-- the catalogs so that a new function cannot forget them.
--
CREATE TEMP VIEW ttpdb_objects AS
SELECT classid::regclass AS catalog, objid
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ttpdb')
  AND deptype = 'e';

-- Every function, aggregate, operator and type lives in schema ttpdb.
SELECT catalog, pg_describe_object(catalog, objid, 0) AS object
FROM ttpdb_objects o
WHERE (catalog = 'pg_proc'::regclass AND
       (SELECT pronamespace FROM pg_proc WHERE oid = o.objid) <> 'ttpdb'::regnamespace)
   OR (catalog = 'pg_type'::regclass AND
       (SELECT typnamespace FROM pg_type WHERE oid = o.objid) <> 'ttpdb'::regnamespace)
   OR (catalog = 'pg_operator'::regclass AND
       (SELECT oprnamespace FROM pg_operator WHERE oid = o.objid) <> 'ttpdb'::regnamespace);

-- Every function, aggregate, operator, type, view and table has a comment.
SELECT pg_describe_object(catalog, objid, 0) AS uncommented
FROM ttpdb_objects
WHERE catalog IN ('pg_proc'::regclass, 'pg_operator'::regclass,
                  'pg_type'::regclass, 'pg_class'::regclass)
  AND obj_description(objid, catalog::name) IS NULL
  -- array types and a composite's row type are described by their owner
  AND NOT (catalog = 'pg_type'::regclass AND
           EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = objid
                   AND (t.typelem <> 0 AND t.typsubscript = 'array_subscript_handler'::regproc
                        OR t.typrelid <> 0)))
ORDER BY 1;

-- No function is left PARALLEL UNSAFE
-- by accident: list the unsafe ones so adding one is a visible decision.
SELECT p.oid::regprocedure AS parallel_unsafe
FROM ttpdb_objects o JOIN pg_proc p ON p.oid = o.objid
WHERE o.catalog = 'pg_proc'::regclass AND p.proparallel = 'u'
ORDER BY 1;

-- SECURITY DEFINER functions pin search_path.
SELECT p.oid::regprocedure AS definer_without_search_path
FROM ttpdb_objects o JOIN pg_proc p ON p.oid = o.objid
WHERE o.catalog = 'pg_proc'::regclass AND p.prosecdef
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
ORDER BY 1;
