-- ttpdb 0.2 -> 0.3: branches, PUBLISH, and the name and version histories
-- they give meaning to.
--
-- A branch is a schema.  For each table it holds, a view of the same name
-- shows the branch's rows: those of the table it was branched from, as of
-- the time it was branched, overlaid with the branch's own changes, which a
-- ttpdb table in a companion schema (ttpdb_branch_<name>) keeps, one row
-- per key the branch wrote.  Creating a branch copies no rows; publishing
-- it costs what it changed.

\echo Use "CREATE EXTENSION ttpdb" or "ALTER EXTENSION ttpdb UPDATE TO '0.3'" to load this file. \quit

--------------------------------------------------------------------------
-- The branches and their tables
--------------------------------------------------------------------------

-- Heap tables, so that the extension installs without the library
-- preloaded; what the branches were over time is ttpdb.branch_events'.
CREATE TABLE ttpdb.branches (
	name text PRIMARY KEY,
	parent text NOT NULL,
	forked_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL,
	schema_name name NOT NULL,
	changes_schema name NOT NULL,
	owner regrole NOT NULL
) USING heap;
COMMENT ON TABLE ttpdb.branches IS
	'The branches: each one''s parent, the time it was branched from it, and its schemas';
GRANT SELECT ON ttpdb.branches TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ttpdb.branches', '');

CREATE TABLE ttpdb.branch_tables (
	branch text NOT NULL,
	source_table regclass NOT NULL,
	branch_view regclass NOT NULL,
	changes_table regclass NOT NULL,
	key_columns name[] NOT NULL,
	PRIMARY KEY (branch, source_table)
) USING heap;
COMMENT ON TABLE ttpdb.branch_tables IS
	'The tables of each branch: the table it shows, the view that shows it, and the table of its changes';
GRANT SELECT ON ttpdb.branch_tables TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ttpdb.branch_tables', '');

-- What moved a branch name: its creation, a publish into or from it, its
-- drop.  The entry of each is the CAUSED_BY of its row.
-- A heap table: an UNDO of a publish puts rows back, but the publish
-- still happened.  (CAUSED_BY reads any table's xmin and cmin.)
CREATE TABLE ttpdb.branch_events (
	event text NOT NULL CHECK (event IN ('branch', 'publish', 'drop')),
	branch text NOT NULL,
	other_branch text,
	at timestamptz,
	changes_tables oid[],		-- for a branch: its changes tables, kept after a drop
	skipped bigint				-- for a publish: the conflicting rows it left as they were
) USING heap;
COMMENT ON TABLE ttpdb.branch_events IS
	'Branch creations, publishes and drops, for the name history';
GRANT SELECT ON ttpdb.branch_events TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ttpdb.branch_events', '');

-- The bookkeeping is written by the branch functions, as the role calling
-- them; row-level security lets a role record only branches whose schemas
-- it owns, and change only the rows of its own branches.
-- Whether the current role may act as a branch's owner: the role that
-- owns its schema now (after REASSIGN OWNED, not the one that made it),
-- else the one recorded, or a superuser.
CREATE FUNCTION ttpdb.branch_owner_is_current(schema_name name, owner regrole) RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce((SELECT pg_has_role(current_user, r.oid, 'USAGE') FROM pg_roles r WHERE r.oid = $2), false)
		-- after REASSIGN OWNED: the role that owns both of its schemas
		OR coalesce((SELECT pg_has_role(current_user, n1.nspowner, 'USAGE')
					 FROM pg_namespace n1
					 JOIN pg_namespace n2 ON n2.nspname = 'ttpdb_branch_' || $1 AND n2.nspowner = n1.nspowner
					 WHERE n1.nspname = $1), false)
		OR (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
$$;
COMMENT ON FUNCTION ttpdb.branch_owner_is_current(name, regrole) IS
	'Whether the current role may act as the owner of a branch (by its schema and recorded owner)';

ALTER TABLE ttpdb.branches ENABLE ROW LEVEL SECURITY;
ALTER TABLE ttpdb.branch_tables ENABLE ROW LEVEL SECURITY;
ALTER TABLE ttpdb.branch_events ENABLE ROW LEVEL SECURITY;
GRANT INSERT, DELETE ON ttpdb.branches, ttpdb.branch_tables TO PUBLIC;
GRANT INSERT ON ttpdb.branch_events TO PUBLIC;
CREATE POLICY branches_read ON ttpdb.branches FOR SELECT USING (true);
CREATE POLICY branches_create ON ttpdb.branches FOR INSERT
	WITH CHECK (owner = current_user::regrole
				AND name ~ '^[a-z_][a-z0-9_]*$' AND name <> 'main'
				AND schema_name = name AND changes_schema = 'ttpdb_branch_' || name
				AND EXISTS (SELECT 1 FROM pg_namespace n
							WHERE n.nspname = schema_name AND n.nspowner = current_user::regrole)
				AND EXISTS (SELECT 1 FROM pg_namespace n
							WHERE n.nspname = changes_schema AND n.nspowner = current_user::regrole));
CREATE POLICY branches_drop ON ttpdb.branches FOR DELETE
	USING (ttpdb.branch_owner_is_current(schema_name, owner));
CREATE POLICY branch_tables_read ON ttpdb.branch_tables FOR SELECT USING (true);
CREATE POLICY branch_tables_create ON ttpdb.branch_tables FOR INSERT
	WITH CHECK (EXISTS (SELECT 1 FROM ttpdb.branches b, pg_class v, pg_class c
						WHERE b.name = branch AND b.owner = current_user::regrole
						  AND v.oid = branch_view AND v.relnamespace::regnamespace::name = b.schema_name
						  AND c.oid = changes_table AND c.relnamespace::regnamespace::name = b.changes_schema));
CREATE POLICY branch_tables_drop ON ttpdb.branch_tables FOR DELETE
	USING (EXISTS (SELECT 1 FROM ttpdb.branches b
				   WHERE b.name = branch AND ttpdb.branch_owner_is_current(b.schema_name, b.owner)));
CREATE POLICY branch_events_read ON ttpdb.branch_events FOR SELECT USING (true);
CREATE POLICY branch_events_record ON ttpdb.branch_events FOR INSERT
	WITH CHECK ((event <> 'publish' OR other_branch = 'main'
				 OR EXISTS (SELECT 1 FROM ttpdb.branches t
							WHERE t.name = other_branch AND ttpdb.branch_owner_is_current(t.schema_name, t.owner)))
				AND EXISTS (SELECT 1 FROM ttpdb.branches b
						WHERE b.name = branch AND ttpdb.branch_owner_is_current(b.schema_name, b.owner)
						  -- a branch's changes tables are in its changes schema
						  AND NOT EXISTS (SELECT 1 FROM unnest(changes_tables) t
										  LEFT JOIN pg_class c ON c.oid = t
										  WHERE c.relnamespace::regnamespace::name IS DISTINCT FROM b.changes_schema)));

CREATE FUNCTION ttpdb.branch_record(op text, branch_name text, other text, at timestamptz,
									tables jsonb DEFAULT NULL, skipped bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	b ttpdb.branches;
	t jsonb;
BEGIN
	IF op = 'branch' THEN
		INSERT INTO ttpdb.branches VALUES (branch_name, other, at, now(), branch_name,
										   'ttpdb_branch_' || branch_name, current_user::regrole);
		FOR t IN SELECT * FROM jsonb_array_elements(tables) LOOP
			INSERT INTO ttpdb.branch_tables
			VALUES (branch_name, (t->>'source_table')::regclass, (t->>'branch_view')::regclass,
					(t->>'changes_table')::regclass,
					ARRAY(SELECT jsonb_array_elements_text(t->'key_columns'))::name[]);
		END LOOP;
		INSERT INTO ttpdb.branch_events
		VALUES (op, branch_name, other, at,
				ARRAY(SELECT (x->>'changes_table')::regclass::oid FROM jsonb_array_elements(tables) x));
		RETURN;
	END IF;
	SELECT * INTO b FROM ttpdb.branches WHERE name = branch_name;
	IF NOT FOUND OR NOT ttpdb.branch_owner_is_current(b.schema_name, b.owner) THEN
		RAISE EXCEPTION 'must be the owner of branch %', branch_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO ttpdb.branch_events VALUES (op, branch_name, other, at, NULL, skipped);
	IF op = 'drop' THEN
		DELETE FROM ttpdb.branch_tables WHERE branch = branch_name;
		DELETE FROM ttpdb.branches WHERE name = branch_name;
	ELSIF op <> 'publish' THEN
		RAISE EXCEPTION 'unknown branch operation %', op USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;
COMMENT ON FUNCTION ttpdb.branch_record(text, text, text, timestamptz, jsonb, bigint) IS
	'Used by ttpdb.branch(), ttpdb.publish() and ttpdb.drop_branch() to record what they did';

-- The columns that identify a row of a table by key: its primary key (or
-- replica identity index); NULL if it has none, or identifies rows by all
-- their columns (REPLICA IDENTITY FULL).
CREATE FUNCTION ttpdb.row_key_columns(tbl regclass) RETURNS name[]
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE WHEN c.relreplident = 'f' THEN NULL ELSE ttpdb.row_identity(c.oid) END
	FROM pg_class c WHERE c.oid = tbl
$$;
COMMENT ON FUNCTION ttpdb.row_key_columns(regclass) IS
	'The key columns of a table (its primary key or replica identity index), NULL if it has none';

-- A branch by name, with a clear error if there is none.
CREATE FUNCTION ttpdb.branch_get(branch_name text) RETURNS ttpdb.branches
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	b ttpdb.branches;
BEGIN
	IF branch_name IS NULL THEN
		RAISE EXCEPTION 'branch name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO b FROM ttpdb.branches WHERE name = branch_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'branch "%" does not exist', branch_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'ttpdb.branches lists the branches; "main" is the tables themselves.';
	END IF;
	RETURN b;
END
$$;
COMMENT ON FUNCTION ttpdb.branch_get(text) IS
	'The ttpdb.branches row of a branch; an error if it does not exist';

-- The SQL of a relation giving a table's rows in a branch: as of a time
-- (an SQL expression) or, if it is NULL, now.  For main, the table itself;
-- for a branch, its parent's rows as of its fork time overlaid with its
-- changes, recursively.
CREATE FUNCTION ttpdb.branch_rows_sql(branch_name text, source regclass, at text)
	RETURNS text
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	b ttpdb.branches;
	bt ttpdb.branch_tables;
	cols text;
	own_cols text;
	key_match text;
	changes text;
BEGIN
	IF branch_name = 'main' THEN
		IF at IS NULL THEN
			RETURN source::text;
		END IF;
		RETURN format('ttpdb.as_of(NULL::%s, %s)', source, at);
	END IF;
	b := ttpdb.branch_get(branch_name);
	SELECT * INTO bt FROM ttpdb.branch_tables t WHERE t.branch = branch_name AND t.source_table = source;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'branch "%" has no table %', branch_name, source
			USING ERRCODE = 'undefined_table';
	END IF;
	-- the branch's own rows compute generated columns as the table would
	SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
		   string_agg(CASE WHEN a.attgenerated = 's'
						   THEN format('%s AS %I', pg_get_expr(d.adbin, d.adrelid), a.attname)
						   ELSE format('%I', a.attname) END, ', ' ORDER BY a.attnum)
	INTO cols, own_cols
	FROM pg_attribute a
	LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped;
	SELECT string_agg(format('c.%1$I = p.%1$I', k), ' AND ') INTO key_match
	FROM unnest(bt.key_columns) k;
	changes := CASE WHEN at IS NULL THEN bt.changes_table::text
					ELSE format('ttpdb.as_of(NULL::%s, %s)', bt.changes_table, at) END;
	RETURN format('(SELECT %1$s FROM %2$s p WHERE NOT EXISTS (SELECT 1 FROM %3$s c WHERE %4$s) '
				  'UNION ALL SELECT %5$s FROM %3$s c WHERE NOT c.ttpdb_deleted)',
				  cols,
				  ttpdb.branch_rows_sql(b.parent, source, quote_literal(b.forked_at) || '::timestamptz'),
				  changes, key_match, own_cols);
END
$$;
COMMENT ON FUNCTION ttpdb.branch_rows_sql(text, regclass, text) IS
	'The SQL of the rows of a table in a branch, now or as of a time';

--------------------------------------------------------------------------
-- BRANCH
--------------------------------------------------------------------------

CREATE FUNCTION ttpdb.branch(name text, from_branch text DEFAULT 'main',
							 at timestamptz DEFAULT NULL, tables regclass[] DEFAULT NULL)
	RETURNS TABLE (source_table regclass, branch_view regclass)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $fn$
DECLARE
	parent ttpdb.branches;
	fork_time timestamptz := coalesce(at, now());
	src regclass;
	keys name[];
	cols text;
	view_sql text;
	chs text := 'ttpdb_branch_' || name;
	rel text;
	recorded jsonb := '[]';
	key_list text;
	key_new text;
	key_old text;
	same_as_old text;
	body text;
	col_list text;
	new_vals text;
	old_vals text;
	set_new text;
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION 'branch name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	from_branch := coalesce(from_branch, 'main');
	IF name !~ '^[a-z_][a-z0-9_]*$' OR length(name) > 49 THEN
		RAISE EXCEPTION 'invalid branch name "%"', name
			USING ERRCODE = 'invalid_name',
				  HINT = 'A branch name is a lower-case identifier of at most 49 characters: it names the branch''s schema.';
	END IF;
	IF name = 'main' OR EXISTS (SELECT 1 FROM ttpdb.branches b WHERE b.name = branch.name) THEN
		RAISE EXCEPTION 'branch "%" already exists', name
			USING ERRCODE = 'duplicate_object';
	END IF;
	IF fork_time > now() THEN
		RAISE EXCEPTION 'cannot branch from the future'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The time asked for is %s; it is now %s.', fork_time, now());
	END IF;
	IF from_branch IS DISTINCT FROM 'main' THEN
		parent := ttpdb.branch_get(from_branch);
		IF fork_time < parent.created_at THEN
			RAISE EXCEPTION 'branch "%" did not exist yet at the time asked for', from_branch
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('It was created at %s; the time asked for is %s.', parent.created_at, fork_time);
		END IF;
		IF tables IS NULL THEN
			SELECT array_agg(t.source_table ORDER BY t.source_table::text) INTO tables
			FROM ttpdb.branch_tables t WHERE t.branch = from_branch;
		ELSIF EXISTS (SELECT 1 FROM unnest(tables) u
					  WHERE u NOT IN (SELECT t.source_table FROM ttpdb.branch_tables t
									  WHERE t.branch = from_branch)) THEN
			RAISE EXCEPTION 'branch "%" does not hold all of the tables asked for', from_branch
				USING ERRCODE = 'undefined_table';
		END IF;
	ELSIF tables IS NULL THEN
		-- every ttpdb table of the database but ttpdb's own and the branches'
		SELECT array_agg(c.oid::regclass ORDER BY c.oid::regclass::text) INTO tables
		FROM pg_class c
		JOIN pg_am am ON am.oid = c.relam
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE am.amname = 'ttpdb' AND c.relkind = 'r' AND c.relpersistence = 'p'
		  AND n.nspname NOT IN ('ttpdb', 'pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'ttpdb\_branch\_%';
	END IF;
	tables := ARRAY(SELECT u FROM unnest(tables) u GROUP BY u ORDER BY u::text);
	IF cardinality(tables) = 0 THEN
		RAISE EXCEPTION 'there is no ttpdb table to branch'
			USING ERRCODE = 'undefined_table',
				  HINT = 'Create tables with USING ttpdb first.';
	END IF;
	IF (SELECT count(DISTINCT c.relname) <> count(*) FROM pg_class c WHERE c.oid = ANY (tables)) THEN
		RAISE EXCEPTION 'a branch cannot hold two tables of the same name'
			USING ERRCODE = 'duplicate_table',
				  HINT = 'Branch the tables of different schemas separately, with the tables argument.';
	END IF;

	FOREACH src IN ARRAY tables LOOP
		IF (SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.oid = src)
		   IS DISTINCT FROM 'ttpdb' THEN
			RAISE EXCEPTION 'table % is not a ttpdb table', src
				USING ERRCODE = 'wrong_object_type',
					  HINT = 'Only tables USING ttpdb have the history a branch reads.';
		END IF;
		IF NOT has_table_privilege(src, 'SELECT') THEN
			RAISE EXCEPTION 'permission denied for table %', src
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'Branching a table reads it.',
					  HINT = 'Name the tables to branch with the tables argument.';
		END IF;
		keys := ttpdb.row_key_columns(src);
		IF keys IS NULL THEN
			RAISE EXCEPTION 'cannot branch table %: it has no key', src
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Give the table a primary key: a branch records its changes by key.';
		END IF;
		IF EXISTS (SELECT 1 FROM pg_attribute a
				   WHERE a.attrelid = src AND a.attname IN ('ttpdb_deleted', 'ttpdb_base')
					 AND NOT a.attisdropped) THEN
			RAISE EXCEPTION 'cannot branch table %: its column names clash with the branch''s', src
				USING ERRCODE = 'duplicate_column',
					  DETAIL = 'A branch''s changes table adds the columns ttpdb_deleted and ttpdb_base.';
		END IF;
	END LOOP;

	EXECUTE format('CREATE SCHEMA %I', name);
	EXECUTE format('CREATE SCHEMA %I', chs);
	EXECUTE format('COMMENT ON SCHEMA %I IS %L', name,
				   format('ttpdb branch %s, from %s as of %s', name, coalesce(from_branch, 'main'), fork_time));
	EXECUTE format('COMMENT ON SCHEMA %I IS %L', chs,
				   format('The changes made in ttpdb branch %s (maintained by ttpdb)', name));
	-- branch_rows_sql reads the branch's row in ttpdb.branches: record it
	-- first, with its tables
	FOREACH src IN ARRAY tables LOOP
		keys := ttpdb.row_identity(src);
		rel := (SELECT c.relname FROM pg_class c WHERE c.oid = src);
		-- the changes: the table's columns (values, no defaults, no
		-- generation), whether the row is deleted, and what it was when the
		-- branch last agreed with the table (JSON null: absent)
		EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING CONSTRAINTS, '
					   'ttpdb_deleted boolean NOT NULL DEFAULT false, ttpdb_base jsonb, '
					   'PRIMARY KEY (%s)) USING ttpdb',
					   chs, rel, src, (SELECT string_agg(format('%I', k), ', ') FROM unnest(keys) k));
		EXECUTE format('COMMENT ON TABLE %I.%I IS %L', chs, rel,
					   format('Rows of %s changed in ttpdb branch %s', src, name));
		recorded := recorded || jsonb_build_object(
			'source_table', src::oid::regclass::text,
			'branch_view', format('%I.%I', name, rel),
			'changes_table', format('%I.%I', chs, rel),
			'key_columns', to_jsonb(keys));
	END LOOP;
	-- views do not exist yet: record them once made
	FOREACH src IN ARRAY tables LOOP
		rel := (SELECT c.relname FROM pg_class c WHERE c.oid = src);
		EXECUTE format('CREATE VIEW %I.%I AS SELECT * FROM %s LIMIT 0', name, rel, src);
	END LOOP;
	PERFORM ttpdb.branch_record('branch', name, coalesce(from_branch, 'main'), fork_time, recorded);

	FOREACH src IN ARRAY tables LOOP
		keys := ttpdb.row_identity(src);
		rel := (SELECT c.relname FROM pg_class c WHERE c.oid = src);
		EXECUTE format('CREATE OR REPLACE VIEW %I.%I AS SELECT * FROM %s r',
					   name, rel, ttpdb.branch_rows_sql(name, src, NULL));
		EXECUTE format('COMMENT ON VIEW %I.%I IS %L', name, rel,
					   format('%s in ttpdb branch %s', src, name));
		-- the defaults of the table, identities drawing from its sequence
		FOR cols IN
			SELECT format('ALTER VIEW %I.%I ALTER COLUMN %I SET DEFAULT %s', name, rel, a.attname,
						  CASE WHEN a.attidentity <> ''
							   THEN format('nextval(%L::regclass)', pg_get_serial_sequence(src::text, a.attname))
							   ELSE pg_get_expr(d.adbin, d.adrelid) END)
			FROM pg_attribute a
			LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped
			  AND a.attgenerated = '' AND (d.adbin IS NOT NULL OR a.attidentity <> '')
		LOOP
			EXECUTE cols;
		END LOOP;

		-- writes through the view go to the changes table
		SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
			   string_agg(format('NEW.%I', a.attname), ', ' ORDER BY a.attnum),
			   string_agg(format('OLD.%I', a.attname), ', ' ORDER BY a.attnum),
			   string_agg(format('%1$I = EXCLUDED.%1$I', a.attname), ', ' ORDER BY a.attnum)
		INTO col_list, new_vals, old_vals, set_new
		FROM pg_attribute a
		WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped;
		SELECT string_agg(format('%I', k), ', '),
			   string_agg(format('NEW.%I', k), ', '),
			   string_agg(format('OLD.%I', k), ', ')
		INTO key_list, key_new, key_old
		FROM unnest(keys) k;
		-- a write to a row must start from the row as the branch has it
		-- now: another transaction may have changed it since the view was
		-- read (generated columns aside: the view computes them)
		-- (as text: every type has a text form, not every type an =)
		SELECT '(' || string_agg(format('c.%1$I::text IS NOT DISTINCT FROM OLD.%1$I::text', a.attname),
								 ' AND ' ORDER BY a.attnum) || ')'
		INTO same_as_old
		FROM pg_attribute a
		WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
		body := format($f$
BEGIN
	IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (%6$s) IS DISTINCT FROM (%7$s)) THEN
		INSERT INTO %1$I.%3$I AS c (%4$s, ttpdb_deleted, ttpdb_base)
		VALUES (%9$s, true, to_jsonb(OLD))
		ON CONFLICT (%5$s) DO UPDATE SET %10$s, ttpdb_deleted = true
			WHERE NOT c.ttpdb_deleted AND c.ttpdb_base IS NOT NULL AND %14$s;
		IF NOT FOUND THEN
			-- inserted by this very statement: a key two rows now have
			IF EXISTS (SELECT 1 FROM %1$I.%3$I c WHERE (%15$s) = (%7$s) AND c.ttpdb_base IS NULL) THEN
				RAISE EXCEPTION 'duplicate key value in branch %%', %12$L
					USING ERRCODE = 'unique_violation',
						  DETAIL = format('Key (%%s)=(%%s) already exists in %%s.', %11$L,
										  concat_ws(', ', %7$s), %13$L);
			END IF;
			RAISE EXCEPTION 'could not serialize access due to concurrent update in branch %%', %12$L
				USING ERRCODE = 'serialization_failure',
					  DETAIL = format('The row of %%s with key (%%s)=(%%s) was changed since this statement read it.',
									  %13$L, %11$L, concat_ws(', ', %7$s));
		END IF;
		IF TG_OP = 'DELETE' THEN
			RETURN OLD;
		END IF;
	ELSIF TG_OP = 'UPDATE' THEN
		INSERT INTO %1$I.%3$I AS c (%4$s, ttpdb_deleted, ttpdb_base)
		VALUES (%8$s, false, to_jsonb(OLD))
		ON CONFLICT (%5$s) DO UPDATE SET %10$s, ttpdb_deleted = false
			WHERE NOT c.ttpdb_deleted AND %14$s;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'could not serialize access due to concurrent update in branch %%', %12$L
				USING ERRCODE = 'serialization_failure',
					  DETAIL = format('The row of %%s with key (%%s)=(%%s) was changed since this statement read it.',
									  %13$L, %11$L, concat_ws(', ', %7$s));
		END IF;
		RETURN NEW;
	END IF;
	-- a new key (the statement then checks it was not in the branch
	-- already), or one the branch deleted
	INSERT INTO %1$I.%3$I AS c (%4$s, ttpdb_deleted, ttpdb_base)
	VALUES (%8$s, false, NULL)
	ON CONFLICT (%5$s) DO UPDATE SET %10$s, ttpdb_deleted = false
		WHERE c.ttpdb_deleted;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'duplicate key value in branch %%', %12$L
			USING ERRCODE = 'unique_violation',
				  DETAIL = format('Key (%%s)=(%%s) already exists in %%s.', %11$L,
								  concat_ws(', ', %6$s), %13$L);
	END IF;
	RETURN NEW;
END
$f$,
			chs, NULL, rel, col_list, key_list, key_new, key_old, new_vals, old_vals,
			(SELECT string_agg(format('%1$I = EXCLUDED.%1$I', a.attname), ', ' ORDER BY a.attnum)
			 FROM pg_attribute a
			 WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped),
			key_list, name, format('%I.%I', name, rel), same_as_old,
			(SELECT string_agg(format('c.%I', k), ', ') FROM unnest(keys) k));
		-- (the body as a literal: no name can end a dollar quote)
		EXECUTE format('CREATE FUNCTION %I.%I() RETURNS trigger LANGUAGE plpgsql '
					   'SET search_path = pg_catalog, pg_temp SET extra_float_digits = 1 '
					   'SET IntervalStyle = postgres SET TimeZone = ''UTC'' SET bytea_output = hex '
					   'SET lc_monetary = ''C'' AS %L',
					   chs, rel || '_write', body);
		EXECUTE format('CREATE TRIGGER ttpdb_branch_write INSTEAD OF INSERT OR UPDATE OR DELETE ON %I.%I '
					   'FOR EACH ROW EXECUTE FUNCTION %I.%I()', name, rel, chs, rel || '_write');
		-- keys inserted new must not be in the rows the branch started from
		body := format($f$
DECLARE
	dup text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM %1$I.%3$I c WHERE c.ttpdb_base IS NULL) THEN
		RETURN NULL;
	END IF;
	SELECT concat_ws(', ', %5$s) INTO dup
	FROM %1$I.%3$I c, %4$s p
	WHERE c.ttpdb_base IS NULL AND NOT c.ttpdb_deleted AND %6$s
	LIMIT 1;
	IF dup IS NOT NULL THEN
		RAISE EXCEPTION 'duplicate key value in branch %%', %7$L
			USING ERRCODE = 'unique_violation',
				  DETAIL = format('Key (%%s)=(%%s) already exists in %%s.', %8$L, dup, %9$L);
	END IF;
	UPDATE %1$I.%3$I SET ttpdb_base = 'null' WHERE ttpdb_base IS NULL;
	RETURN NULL;
END
$f$,
			chs, NULL, rel,
			ttpdb.branch_rows_sql(coalesce(from_branch, 'main'), src,
								  quote_literal(fork_time) || '::timestamptz'),
			(SELECT string_agg(format('c.%I', k), ', ') FROM unnest(keys) k),
			(SELECT string_agg(format('c.%1$I = p.%1$I', k), ' AND ') FROM unnest(keys) k),
			name, key_list, format('%I.%I', name, rel));
		EXECUTE format('CREATE FUNCTION %I.%I() RETURNS trigger LANGUAGE plpgsql '
					   'SET search_path = pg_catalog, pg_temp AS %L', chs, rel || '_check', body);
		EXECUTE format('CREATE TRIGGER ttpdb_branch_check AFTER INSERT OR UPDATE ON %I.%I '
					   'FOR EACH STATEMENT EXECUTE FUNCTION %I.%I()', name, rel, chs, rel || '_check');
		source_table := src;
		branch_view := format('%I.%I', name, rel)::regclass;
		RETURN NEXT;
	END LOOP;
END
$fn$;

COMMENT ON FUNCTION ttpdb.branch(text, text, timestamptz, regclass[]) IS
	'Create a branch (a schema of views) of the ttpdb tables of a branch as of a time; copies no rows';

--------------------------------------------------------------------------
-- PUBLISH, compare, drop
--------------------------------------------------------------------------

-- A branch's changes table has the columns its table had when the branch
-- was made: after DDL on the table, the branch cannot be read or published.
CREATE FUNCTION ttpdb.branch_check_columns(branch_name text, source regclass, changes regclass)
	RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF EXISTS (
		(SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a
		 WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped
		 EXCEPT
		 SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a
		 WHERE a.attrelid = changes AND a.attnum > 0 AND NOT a.attisdropped)
		UNION ALL
		(SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a
		 WHERE a.attrelid = changes AND a.attnum > 0 AND NOT a.attisdropped
		   AND a.attname NOT IN ('ttpdb_deleted', 'ttpdb_base')
		 EXCEPT
		 SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a
		 WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped)) THEN
		RAISE EXCEPTION 'table % changed since branch "%" was made', source, branch_name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Its columns are not the ones the branch recorded.',
				  HINT = 'Publish or compare before changing a branched table''s columns; otherwise drop the branch and branch again.';
	END IF;
END
$$;
COMMENT ON FUNCTION ttpdb.branch_check_columns(text, regclass, regclass) IS
	'An error if a branched table''s columns changed since the branch was made';

-- Publish a branch's changes into another branch (its parent by default),
-- row by row with a three-way check: a row the target changed since the
-- branch last agreed with it (its fork, or its last publish), to a value
-- other than the branch's, is a conflict.
CREATE FUNCTION ttpdb.publish(from_branch text, into_branch text DEFAULT NULL,
							  on_conflict text DEFAULT 'error')
	RETURNS TABLE (table_name regclass, row_key jsonb, action text, outcome text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	-- JSON forms of values compare as the branch's triggers made them
	SET extra_float_digits = 1
	SET IntervalStyle = postgres
	SET TimeZone = 'UTC'
	SET bytea_output = hex
	SET lc_monetary = 'C'
	AS $$
DECLARE
	src_b ttpdb.branches;
	into_name text;
	bt ttpdb.branch_tables;
	target text;
	target_changes regclass;
	into_main boolean;
	v record;
	conflicts text[] := '{}';
	-- (arrays, not JSON arrays: appending to them does not copy them)
	dels jsonb[];
	upds jsonb[];
	inss jsonb[];
	agreed jsonb[];
	key_cols text;
	key_match text;
	set_cols text;
	ins_cols text;
	generated text[];
	n bigint;
	skipped bigint := 0;
	into_parent boolean;
BEGIN
	IF on_conflict IS NULL OR on_conflict NOT IN ('error', 'skip', 'overwrite') THEN
		RAISE EXCEPTION 'invalid on_conflict value: %', on_conflict
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use ''error'' (the default), ''skip'' or ''overwrite''.';
	END IF;
	IF from_branch = 'main' THEN
		RAISE EXCEPTION 'cannot publish main'
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Publish a branch into main; to bring main''s changes into a branch, branch again.';
	END IF;
	src_b := ttpdb.branch_get(from_branch);
	into_name := coalesce(into_branch, src_b.parent);
	IF into_name = from_branch THEN
		RAISE EXCEPTION 'cannot publish branch "%" into itself', from_branch
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	into_main := into_name = 'main';
	IF NOT into_main THEN
		PERFORM ttpdb.branch_get(into_name);
	END IF;
	-- what the branch agrees with is its parent's: a publish elsewhere
	-- leaves that as it was
	into_parent := into_name = src_b.parent;
	IF NOT ttpdb.branch_owner_is_current(src_b.schema_name, src_b.owner) THEN
		RAISE EXCEPTION 'must be the owner of branch %', from_branch
			USING ERRCODE = 'insufficient_privilege';
	END IF;

	-- nobody writes to the branch or to the target until this commits;
	-- readers go on reading either what was or what is published
	FOR bt IN SELECT * FROM ttpdb.branch_tables t WHERE t.branch = from_branch
			  ORDER BY t.source_table::text LOOP
		EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', bt.changes_table);
		IF into_main THEN
			EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', bt.source_table);
		ELSE
			SELECT t.changes_table INTO target_changes FROM ttpdb.branch_tables t
			WHERE t.branch = into_name AND t.source_table = bt.source_table;
			IF NOT FOUND THEN
				RAISE EXCEPTION 'branch "%" has no table %', into_name, bt.source_table
					USING ERRCODE = 'undefined_table';
			END IF;
			EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', target_changes);
		END IF;
	END LOOP;

	FOR bt IN SELECT * FROM ttpdb.branch_tables t WHERE t.branch = from_branch
			  ORDER BY t.source_table::text LOOP
		IF into_main THEN
			target := bt.source_table::text;
		ELSE
			SELECT t.branch_view::text INTO target FROM ttpdb.branch_tables t
			WHERE t.branch = into_name AND t.source_table = bt.source_table;
		END IF;
		SELECT string_agg(format('%I', k), ', '),
			   string_agg(format('t.%1$I = d.%1$I', k), ' AND ')
		INTO key_cols, key_match
		FROM unnest(bt.key_columns) k;
		PERFORM ttpdb.branch_check_columns(from_branch, bt.source_table, bt.changes_table);
		-- generated columns are the target's to compute: not compared
		SELECT coalesce(array_agg(a.attname::text), '{}') INTO generated
		FROM pg_attribute a
		WHERE a.attrelid = bt.source_table AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> '';
		-- what is written: the table's columns, less what it computes itself
		SELECT string_agg(format('%1$I = d.%1$I', a.attname), ', ' ORDER BY a.attnum)
				 FILTER (WHERE a.attname <> ALL (bt.key_columns)
						 AND (NOT into_main OR (a.attidentity <> 'a' AND a.attgenerated = ''))),
			   string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
				 FILTER (WHERE NOT into_main OR a.attgenerated = '')
		INTO set_cols, ins_cols
		FROM pg_attribute a
		WHERE a.attrelid = bt.source_table AND a.attnum > 0 AND NOT a.attisdropped;

		dels := '{}'; upds := '{}'; inss := '{}'; agreed := '{}';
		FOR v IN EXECUTE format($q$
			SELECT (SELECT jsonb_object_agg(k, to_jsonb(c) -> k) FROM unnest($1::name[]) k) AS row_key,
				   nullif(c.ttpdb_base, 'null') - $2 AS base,
				   CASE WHEN c.ttpdb_deleted THEN NULL
						ELSE to_jsonb(c) - 'ttpdb_deleted' - 'ttpdb_base' - $2 END AS ours,
				   t.ttpdb_j - $2 AS theirs
			FROM %1$s c
			LEFT JOIN (SELECT to_jsonb(x) AS ttpdb_j, %2$s FROM %3$s x) t ON %4$s
			-- what frees a unique value first: deletes, then updates, then inserts
			ORDER BY CASE WHEN c.ttpdb_deleted THEN 0 WHEN t.ttpdb_j IS NULL THEN 2 ELSE 1 END, 1$q$,
			bt.changes_table, (SELECT string_agg(format('x.%I', k), ', ') FROM unnest(bt.key_columns) k),
			target, replace(key_match, 'd.', 'c.'))
		USING bt.key_columns, generated
		LOOP
			IF v.ours IS NOT DISTINCT FROM v.theirs THEN
				-- the target already has it: agreed from now on
				agreed := agreed || jsonb_build_object('key', v.row_key, 'value', coalesce(v.ours, 'null'));
				CONTINUE;
			END IF;
			-- the branch put the row back as it was: nothing to publish
			CONTINUE WHEN v.ours IS NOT DISTINCT FROM v.base;
			table_name := bt.source_table;
			row_key := v.row_key;
			action := CASE WHEN v.ours IS NULL THEN 'delete'
						   WHEN v.theirs IS NULL THEN 'insert' ELSE 'update' END;
			IF v.theirs IS DISTINCT FROM v.base THEN
				IF on_conflict = 'error' THEN
					conflicts := conflicts || format('%s %s', bt.source_table, v.row_key);
					CONTINUE;
				ELSIF on_conflict = 'skip' THEN
					outcome := 'conflict: skipped';
					skipped := skipped + 1;
					RETURN NEXT;
					CONTINUE;
				END IF;
				outcome := 'conflict: overwritten';
			ELSE
				outcome := 'done';
			END IF;
			IF action = 'delete' THEN
				dels := dels || v.row_key;
			ELSIF action = 'insert' THEN
				inss := inss || v.ours;
			ELSE
				upds := upds || v.ours;
			END IF;
			agreed := agreed || jsonb_build_object('key', v.row_key, 'value', coalesce(v.ours, 'null'));
			RETURN NEXT;
		END LOOP;
		CONTINUE WHEN cardinality(conflicts) > 0;

		EXECUTE format('DELETE FROM %1$s t USING jsonb_populate_recordset(NULL::%2$s, to_jsonb($1)) d WHERE %3$s',
					   target, bt.source_table, key_match) USING dels;
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n <> cardinality(dels) THEN
			RAISE EXCEPTION 'publish found % changed meanwhile', target USING ERRCODE = 'serialization_failure';
		END IF;
		IF set_cols IS NOT NULL THEN
			EXECUTE format('UPDATE %1$s t SET %4$s FROM jsonb_populate_recordset(NULL::%2$s, to_jsonb($1)) d WHERE %3$s',
						   target, bt.source_table, key_match, set_cols) USING upds;
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n <> cardinality(upds) THEN
				RAISE EXCEPTION 'publish found % changed meanwhile', target USING ERRCODE = 'serialization_failure';
			END IF;
		END IF;
		EXECUTE format('INSERT INTO %1$s (%3$s) %4$s SELECT %3$s FROM jsonb_populate_recordset(NULL::%2$s, to_jsonb($1))',
					   target, bt.source_table, ins_cols,
					   CASE WHEN into_main THEN 'OVERRIDING SYSTEM VALUE' ELSE '' END) USING inss;
		-- the branch now agrees with its parent on the rows published
		CONTINUE WHEN NOT into_parent;
		EXECUTE format($u$
			UPDATE %1$s c SET ttpdb_base = a.value -> 'value'
			FROM unnest($1) a(value),
				LATERAL jsonb_populate_record(NULL::%2$s, a.value -> 'key') d
			WHERE %3$s AND c.ttpdb_base IS DISTINCT FROM a.value -> 'value'$u$,
			bt.changes_table, bt.source_table, replace(key_match, 't.', 'c.'))
		USING agreed;
	END LOOP;

	IF cardinality(conflicts) > 0 THEN
		RAISE EXCEPTION 'cannot publish branch "%" into "%": %', from_branch, into_name,
			CASE WHEN cardinality(conflicts) = 1 THEN '1 row was changed in both'
				 ELSE cardinality(conflicts) || ' rows were changed in both' END
			USING ERRCODE = 'serialization_failure',
				  DETAIL = 'Changed in both: ' || array_to_string(conflicts[1:10], '; ')
						   || CASE WHEN cardinality(conflicts) > 10 THEN '; ...' ELSE '' END,
				  HINT = 'on_conflict => ''skip'' keeps the target''s rows and publishes the others; on_conflict => ''overwrite'' publishes the branch''s rows over them.';
	END IF;
	PERFORM ttpdb.branch_record('publish', from_branch, into_name, NULL, NULL, skipped);
END
$$;
COMMENT ON FUNCTION ttpdb.publish(text, text, text) IS
	'Publish a branch''s changes into another branch (its parent by default) atomically, with a three-way conflict check; on_conflict: error (default), skip or overwrite';

-- The rows that differ between two branches, table by table.
CREATE FUNCTION ttpdb.compare(branch_a text, branch_b text)
	RETURNS TABLE (table_name regclass, row_key jsonb, difference text, a jsonb, b jsonb)
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	SET extra_float_digits = 1
	SET IntervalStyle = postgres
	SET TimeZone = 'UTC'
	SET bytea_output = hex
	SET lc_monetary = 'C'
	AS $$
DECLARE
	src regclass;
	keys name[];
	key_cols text;
BEGIN
	IF branch_a IS NULL OR branch_b IS NULL THEN
		RAISE EXCEPTION 'branch name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF branch_a <> 'main' THEN
		PERFORM ttpdb.branch_get(branch_a);
	END IF;
	IF branch_b <> 'main' THEN
		PERFORM ttpdb.branch_get(branch_b);
	END IF;
	FOR src, keys IN
		-- the tables both hold (main holds them all)
		SELECT t.source_table, t.key_columns FROM ttpdb.branch_tables t
		WHERE t.branch = CASE WHEN branch_a = 'main' THEN branch_b ELSE branch_a END
		  AND (branch_a = 'main' OR branch_b = 'main'
			   OR EXISTS (SELECT 1 FROM ttpdb.branch_tables u
						  WHERE u.branch = branch_b AND u.source_table = t.source_table))
		ORDER BY t.source_table::text
	LOOP
		SELECT string_agg(format('%I', k), ', ') INTO key_cols FROM unnest(keys) k;
		PERFORM ttpdb.branch_check_columns(t.branch, t.source_table, t.changes_table)
		FROM ttpdb.branch_tables t
		WHERE t.branch IN (branch_a, branch_b) AND t.source_table = src;
		RETURN QUERY EXECUTE format($q$
			SELECT %1$L::regclass,
				   (SELECT jsonb_object_agg(k, coalesce(a.ttpdb_j, b.ttpdb_j) -> k) FROM unnest($1::name[]) k),
				   CASE WHEN b.ttpdb_j IS NULL THEN 'only in ' || $2
						WHEN a.ttpdb_j IS NULL THEN 'only in ' || $3 ELSE 'differs' END,
				   a.ttpdb_j, b.ttpdb_j
			FROM (SELECT to_jsonb(x) AS ttpdb_j, %2$s FROM %3$s x) a
			FULL JOIN (SELECT to_jsonb(y) AS ttpdb_j, %2$s FROM %4$s y) b USING (%2$s)
			WHERE a.ttpdb_j IS DISTINCT FROM b.ttpdb_j
			ORDER BY 2$q$,
			src, key_cols, ttpdb.branch_rows_sql(branch_a, src, NULL), ttpdb.branch_rows_sql(branch_b, src, NULL))
		USING keys, branch_a, branch_b;
	END LOOP;
END
$$;
COMMENT ON FUNCTION ttpdb.compare(text, text) IS
	'The rows that differ between two branches (main is the tables themselves), with both versions';

CREATE FUNCTION ttpdb.drop_branch(name text) RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	SET client_min_messages = warning
	AS $$
DECLARE
	b ttpdb.branches;
	children text;
BEGIN
	b := ttpdb.branch_get(name);
	SELECT string_agg(c.name, ', ' ORDER BY c.name) INTO children
	FROM ttpdb.branches c WHERE c.parent = drop_branch.name;
	IF children IS NOT NULL THEN
		RAISE EXCEPTION 'cannot drop branch "%": other branches were branched from it', name
			USING ERRCODE = 'dependent_objects_still_exist',
				  DETAIL = format('Branched from it: %s.', children),
				  HINT = 'Drop those branches first.';
	END IF;
	-- the owner's to drop (whoever owns its schemas now)
	PERFORM ttpdb.branch_record('drop', name, NULL, NULL);
	EXECUTE format('DROP SCHEMA %I CASCADE', b.schema_name);
	EXECUTE format('DROP SCHEMA %I CASCADE', b.changes_schema);
END
$$;
COMMENT ON FUNCTION ttpdb.drop_branch(text) IS
	'Drop a branch: its schemas go, its history stays (owner only)';

--------------------------------------------------------------------------
-- The name history and the version history
--------------------------------------------------------------------------

-- Walk the log in order and follow each name (main and every branch):
-- an entry that changes a name's rows makes a new database version,
-- derived from the one the name pointed to; branching points a new name at
-- its parent's version as of the fork time; a publish into a name that has
-- not moved since the branch last agreed with it points it at the branch's
-- version (otherwise it makes a merge version); an UNDO of the entry that
-- moved a name, while the name still points where it moved it, points it
-- back.  Versions are named by the entry that made them, 0 being the
-- tables before the first entry.
CREATE FUNCTION ttpdb.timeline(OUT entry bigint, OUT committed_at timestamptz, OUT name text,
							   OUT version bigint, OUT derived_from bigint, OUT merged_from bigint,
							   OUT how text, OUT new_version boolean)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	cur jsonb := '{"main": 0}';		-- name -> version
	agreed jsonb := '{}';			-- branch -> version it last agreed with its parent
	bookkeeping jsonb := '{}';		-- publish entry -> the branch whose changes it marked agreed
	agreed_before jsonb := '{}';	-- publish entry -> what that branch agreed with before it
	parent_of jsonb := '{}';		-- branch -> the name it was branched from
	-- every move of a name, in order (arrays: appended to in place)
	m_entry bigint[] := '{}';
	m_time timestamptz[] := '{}';
	m_name text[] := '{}';
	m_old bigint[] := '{}';
	m_new bigint[] := '{}';
	e record;
	n text;
	i int;
	old_v bigint;
	undone_from bigint;
	undone_to bigint;
	covered text[];				-- the names an entry's branch event moved
BEGIN
	FOR e IN
		WITH owners AS (
			-- the changes tables of every branch made (dropped ones too)
			SELECT c AS table_oid, b.branch
			FROM ttpdb.branch_events b, unnest(b.changes_tables) c
			WHERE b.event = 'branch' AND ttpdb.caused_by(b.xmin, b.cmin, b.xmax) IS NOT NULL)
		SELECT l.entry, l.committed_at, l.undoes, l.kind, ev.event, ev.branch AS ev_branch,
			   ev.other_branch AS ev_other, ev.at AS ev_at, ev.skipped AS ev_skipped,
			   -- the names whose rows it changed
			   ARRAY(SELECT DISTINCT coalesce(o.branch, 'main')
					 FROM unnest(l.tables) t LEFT JOIN owners o ON o.table_oid = t::oid
					 WHERE NOT EXISTS (SELECT 1 FROM pg_class c
									   WHERE c.oid = t::oid AND c.relnamespace = 'ttpdb'::regnamespace)) AS names
		FROM ttpdb.log l
		LEFT JOIN (SELECT ttpdb.caused_by(b.xmin, b.cmin, b.xmax) AS entry, b.*
				   FROM ttpdb.branch_events b) ev ON ev.entry = l.entry
		ORDER BY l.entry
	LOOP
		entry := e.entry;
		committed_at := e.committed_at;
		derived_from := NULL;
		merged_from := NULL;
		covered := '{}';
		IF e.event = 'branch' THEN
			name := e.ev_branch;
			covered := ARRAY[e.ev_branch];
			-- the parent's version as of the fork time
			version := NULL;
			FOR i IN REVERSE cardinality(m_entry) .. 1 LOOP
				IF m_name[i] = e.ev_other AND m_time[i] <= e.ev_at THEN
					version := m_new[i];
					EXIT;
				END IF;
			END LOOP;
			version := coalesce(version, CASE WHEN e.ev_other = 'main' THEN 0 END,
								(cur->>e.ev_other)::bigint);
			how := 'branch';
			new_version := false;
			agreed := agreed || jsonb_build_object(name, version);
			parent_of := parent_of || jsonb_build_object(name, e.ev_other);
			old_v := NULL;
		ELSIF e.event = 'publish' THEN
			name := e.ev_other;
			covered := ARRAY[e.ev_other, e.ev_branch];
			old_v := (cur->>name)::bigint;
			IF old_v IS NOT DISTINCT FROM (agreed->>e.ev_branch)::bigint
			   AND parent_of->>e.ev_branch = name AND coalesce(e.ev_skipped, 0) = 0 THEN
				version := (cur->>e.ev_branch)::bigint;		-- nothing to merge with
				new_version := false;
			ELSE
				version := e.entry;
				derived_from := old_v;
				merged_from := (cur->>e.ev_branch)::bigint;
				new_version := true;
			END IF;
			how := 'publish';
			agreed_before := agreed_before || jsonb_build_object(e.entry::text, agreed -> e.ev_branch);
			IF parent_of->>e.ev_branch = name THEN
				agreed := agreed || jsonb_build_object(e.ev_branch, version);
			END IF;
			bookkeeping := bookkeeping || jsonb_build_object(e.entry::text, e.ev_branch);
		ELSIF e.event = 'drop' THEN
			name := e.ev_branch;
			covered := ARRAY[e.ev_branch];
			version := NULL;
			how := 'drop';
			new_version := false;
			old_v := NULL;
		END IF;
		IF e.event IS NOT NULL THEN
			IF version IS NULL THEN
				cur := cur - name;
			ELSE
				cur := cur || jsonb_build_object(name, version);
			END IF;
			m_entry := m_entry || e.entry;
			m_time := m_time || e.committed_at;
			m_name := m_name || name;
			m_old := m_old || old_v;
			m_new := m_new || version;
			RETURN NEXT;
		END IF;
		-- the names whose rows it changed (an event's own names aside)
		FOREACH n IN ARRAY e.names LOOP
			CONTINUE WHEN e.undoes IS NOT NULL AND bookkeeping->>e.undoes::text = n;
			CONTINUE WHEN n = ANY (covered);
			CONTINUE WHEN NOT cur ? n;
			name := n;
			old_v := (cur->>n)::bigint;
			derived_from := NULL;
			merged_from := NULL;
			-- where the undone entry moved the name, if it did
			undone_from := NULL;
			undone_to := NULL;
			IF e.kind = 'UNDO' THEN
				FOR i IN REVERSE cardinality(m_entry) .. 1 LOOP
					EXIT WHEN m_entry[i] < e.undoes;
					IF m_entry[i] = e.undoes AND m_name[i] = n THEN
						undone_from := m_old[i];
						undone_to := m_new[i];
						EXIT;
					END IF;
				END LOOP;
			END IF;
			IF undone_to IS NOT NULL AND undone_to = old_v THEN
				-- the name still points where the undone entry moved it
				version := undone_from;
				new_version := false;
				how := 'undo';
				-- an undone publish: its branch agrees with what it did before
				IF bookkeeping ? e.undoes::text THEN
					agreed := agreed || jsonb_build_object(bookkeeping ->> e.undoes::text,
														   agreed_before -> e.undoes::text);
				END IF;
			ELSE
				version := e.entry;
				derived_from := old_v;
				new_version := true;
				how := CASE WHEN e.undoes IS NULL THEN 'change'
							WHEN e.kind = 'AMEND' THEN 'amend' ELSE 'undo' END;
			END IF;
			cur := cur || jsonb_build_object(n, version);
			m_entry := m_entry || e.entry;
			m_time := m_time || e.committed_at;
			m_name := m_name || n;
			m_old := m_old || old_v;
			m_new := m_new || version;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;
COMMENT ON FUNCTION ttpdb.timeline() IS
	'Every move of every name (main and the branches) over the log, and the database versions the moves made';

CREATE OR REPLACE VIEW ttpdb.name_history AS
SELECT t.name, t.version, t.committed_at AS since,
	lead(t.committed_at) OVER (PARTITION BY t.name ORDER BY t.entry) AS until,
	t.entry,
	t.how
FROM ttpdb.timeline() t;
COMMENT ON VIEW ttpdb.name_history IS
	'Name history: which database version each name (main, each branch) pointed to, from which entry on';

CREATE OR REPLACE VIEW ttpdb.version_history AS
SELECT t.version, t.derived_from, t.entry AS by_entry, t.committed_at,
	t.name AS branch,
	t.merged_from,
	t.how
FROM ttpdb.timeline() t
WHERE t.new_version;
COMMENT ON VIEW ttpdb.version_history IS
	'Version history (provenance): each database version, the version it was derived from (and merged from), and the entry that made it';

--------------------------------------------------------------------------
-- Replay
--------------------------------------------------------------------------

CREATE FUNCTION ttpdb.expression_is_trusted(expr pg_node_tree) RETURNS boolean
	AS 'MODULE_PATHNAME', 'ttpdb_expression_is_trusted' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.expression_is_trusted(pg_node_tree) IS
	'Used by ttpdb.replay(): whether a stored expression calls only built-in code or code a superuser owns';

CREATE FUNCTION ttpdb.type_is_trusted(typ regtype) RETURNS boolean
	AS 'MODULE_PATHNAME', 'ttpdb_type_is_trusted' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.type_is_trusted(regtype) IS
	'Used by ttpdb.replay(): whether making values of a type runs only built-in code or code a superuser owns';

CREATE FUNCTION ttpdb.replay_statement(statement text, parameters text[], target regnamespace)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'ttpdb_replay_statement' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.replay_statement(text, text[], regnamespace) IS
	'Used by ttpdb.replay(): run a logged statement again if it keeps to the target schema (NULL if it does not)';

CREATE FUNCTION ttpdb.replay_digest_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'ttpdb_replay_digest_trigger' LANGUAGE C;
COMMENT ON FUNCTION ttpdb.replay_digest_trigger() IS
	'Used by ttpdb.replay(): digests the changes to a replay table as the log digests the original''s';

CREATE FUNCTION ttpdb.replay_digest_take(tbl regclass) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ttpdb_replay_digest_take' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.replay_digest_take(regclass) IS
	'Used by ttpdb.replay(): the digest of a replay table''s changes since the last call';

-- The tables an operation works on by default: every ttpdb table but
-- ttpdb's own and the branches' changes.
CREATE FUNCTION ttpdb.tracked_tables() RETURNS regclass[]
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT array_agg(c.oid::regclass ORDER BY c.oid::regclass::text)
	FROM pg_class c
	JOIN pg_am am ON am.oid = c.relam
	JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE am.amname = 'ttpdb' AND c.relkind = 'r' AND c.relpersistence = 'p'
	  AND n.nspname NOT IN ('ttpdb', 'pg_catalog', 'information_schema')
	  AND n.nspname NOT LIKE 'ttpdb\_branch\_%'
$$;
COMMENT ON FUNCTION ttpdb.tracked_tables() IS
	'The ttpdb tables of the database, but ttpdb''s own and the branches'' changes tables';

-- Make a replay table: the source's columns at the same positions (a
-- dropped column is dropped again, so that digests hash alike), its
-- defaults, keys and indexes, and the digest trigger; not its CHECK and NOT
-- NULL constraints, which a row of the past need not meet (every statement
-- replayed once succeeded).  Heap: a replay's tables are scratch, not
-- history.
CREATE FUNCTION ttpdb.replay_create_table(target name, src regclass) RETURNS regclass
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel name := (SELECT c.relname FROM pg_class c WHERE c.oid = src);
	tgt text := format('%I.%I', target, rel);
	cols text;
	stmt text;
	def text;
	prefix text;
	x record;
BEGIN
	-- a column of a type whose checks run code the caller does not trust
	-- (a domain's constraints, at any depth: arrays, composites, domains)
	IF EXISTS (SELECT 1 FROM pg_attribute a
			   WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped
				 AND NOT ttpdb.type_is_trusted(a.atttypid)) THEN
		RAISE EXCEPTION 'cannot replay table %: a column''s type runs code that is neither built in nor a superuser''s', src
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	-- defaults and generated columns only if they run trusted code (built
	-- in, or a superuser's): the replay runs them as the calling role
	SELECT string_agg(CASE WHEN a.attisdropped THEN format('ttpdb_dropped_%s int', a.attnum)
						   ELSE format('%I %s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
									   CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
											THEN format(' COLLATE %s', a.attcollation::regcollation) ELSE '' END,
									   CASE WHEN d.adbin IS NULL OR NOT ttpdb.expression_is_trusted(d.adbin) THEN ''
											WHEN a.attgenerated = 's'
											THEN format(' GENERATED ALWAYS AS (%s) STORED', pg_get_expr(d.adbin, d.adrelid))
											ELSE format(' DEFAULT %s', pg_get_expr(d.adbin, d.adrelid)) END) END,
					  ', ' ORDER BY a.attnum)
	INTO cols
	FROM pg_attribute a
	LEFT JOIN pg_type t ON t.oid = a.atttypid
	LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE a.attrelid = src AND a.attnum > 0;
	EXECUTE format('CREATE TABLE %s (%s) USING heap', tgt, cols);
	FOR stmt IN
		SELECT format('ALTER TABLE %s DROP COLUMN %I', tgt, 'ttpdb_dropped_' || a.attnum)
		FROM pg_attribute a WHERE a.attrelid = src AND a.attnum > 0 AND a.attisdropped
	LOOP
		EXECUTE stmt;
	END LOOP;
	-- keys, unique and exclusion constraints, and indexes, as the source's
	-- definitions say with the table's name replaced; only those whose
	-- expressions, predicates and operators run trusted code
	FOR x IN
		SELECT i.indexrelid, ic.relname AS index_name, i.indisunique, k.conname, k.contype
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = src
		WHERE i.indrelid = src
		  AND (i.indexprs IS NULL OR ttpdb.expression_is_trusted(i.indexprs))
		  AND (i.indpred IS NULL OR ttpdb.expression_is_trusted(i.indpred))
		  AND NOT EXISTS (SELECT 1 FROM unnest(k.conexclop) op JOIN pg_operator o ON o.oid = op
						  JOIN pg_proc p ON p.oid = o.oprcode
						  WHERE p.oid >= 16384 AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = p.proowner))
		ORDER BY k.contype = 'p' DESC, i.indexrelid
	LOOP
		def := pg_get_indexdef(x.indexrelid);
		prefix := format('CREATE %sINDEX %I ON %I.%I USING ', CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END,
						 x.index_name, (SELECT c.relnamespace::regnamespace::name FROM pg_class c WHERE c.oid = src),
						 rel);
		CONTINUE WHEN left(def, length(prefix)) <> prefix;
		IF x.contype = 'x' THEN
			EXECUTE format('ALTER TABLE %s ADD %s', tgt, pg_get_constraintdef(
				(SELECT k.oid FROM pg_constraint k WHERE k.conrelid = src AND k.conindid = x.indexrelid)));
			CONTINUE;
		END IF;
		EXECUTE format('CREATE %sINDEX %I ON %s USING %s', CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END,
					   x.index_name, tgt, substr(def, length(prefix) + 1));
		-- a key or unique constraint again, so that ON CONFLICT finds it
		IF x.contype IN ('p', 'u') THEN
			EXECUTE format('ALTER TABLE %s ADD %s USING INDEX %I', tgt,
						   CASE x.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, x.index_name);
		END IF;
	END LOOP;
	EXECUTE format('CREATE TRIGGER ttpdb_replay_digest AFTER INSERT OR UPDATE OR DELETE ON %s '
				   'FOR EACH ROW EXECUTE FUNCTION ttpdb.replay_digest_trigger()', tgt);
	RETURN tgt::regclass;
END
$$;
COMMENT ON FUNCTION ttpdb.replay_create_table(name, regclass) IS
	'Used by ttpdb.replay(): a scratch copy of a table''s definition in the replay schema';

-- The replay itself, for ttpdb.replay() and ttpdb.amend(): the tables as
-- of just before from_entry's transaction, then every entry up to
-- upto_entry that changed them, run again where it can be, applied from
-- the versions it made and ended where it cannot; amended_entry, if
-- given, is replaced by the statements "replacement".
CREATE FUNCTION ttpdb.replay_run(target name, tables regclass[], from_entry bigint, upto_entry bigint,
								 amended_entry bigint, replacement text[], check_transactions boolean)
	RETURNS TABLE (entry bigint, kind text, replayed text, digest_matches boolean, detail text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	-- versions travel as text: their text must read back exactly
	SET extra_float_digits = 3
	SET DateStyle = 'ISO, YMD'
	SET IntervalStyle = postgres
	AS $$
DECLARE
	target_ns regnamespace;
	base_time timestamptz;
	src regclass;
	tgt regclass;
	map jsonb := '{}';				-- source oid -> replay table
	versions_loaded jsonb := '{}';	-- source oid -> its versions are in the temp table
	effects_sql jsonb := '{}';		-- source oid -> the SQL that applies an entry's versions
	e record;
	t record;
	r record;
	stmt text;
	stmts text[];
	rows_done bigint;
	matched boolean;
	total bigint;
	done bigint := 0;
	last_note timestamptz := clock_timestamp();
	keys name[];
	ins_cols text;
	ins_vals text;
	key_match text;
	key_json text;
	n bigint;
	v text;
	present boolean;
	found_at tid;
	not_found bigint;
	amending boolean := amended_entry IS NOT NULL;
	undone bigint[] := '{}';
	amendment_of jsonb := '{}';		-- entry -> the statements an AMEND not undone replaced it with
	-- after the amended entry the history is a new one: statements that
	-- run again are meant to change other rows than they did
	diverged boolean := false;
	err_state text;
	err_message text;
	err_detail text;
	err_hint text;
BEGIN
	SELECT l.committed_at - interval '1 microsecond' INTO base_time
	FROM ttpdb.log l WHERE l.entry = from_entry;
	EXECUTE format('CREATE SCHEMA %I', target);
	SELECT n.oid INTO target_ns FROM pg_namespace n WHERE n.nspname = target;
	FOREACH src IN ARRAY tables LOOP
		tgt := ttpdb.replay_create_table(target, src);
		map := map || jsonb_build_object(src::oid::text, tgt::oid);
		SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO ins_cols
		FROM pg_attribute a
		WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
		EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM ttpdb.as_of(NULL::%s, $1)',
					   tgt, ins_cols, ins_cols, src) USING base_time;
		PERFORM ttpdb.replay_digest_take(tgt);
	END LOOP;
	-- the versions of the replayed entries, for those applied from them
	CREATE TEMP TABLE IF NOT EXISTS ttpdb_replay_versions (
		source oid, created_entry bigint, ended_entry bigint, version text) ON COMMIT DROP;
	TRUNCATE ttpdb_replay_versions;
	CREATE INDEX IF NOT EXISTS ttpdb_replay_versions_created ON ttpdb_replay_versions (source, created_entry);
	CREATE INDEX IF NOT EXISTS ttpdb_replay_versions_ended ON ttpdb_replay_versions (source, ended_entry);
	-- an amended history is the amended log's: no UNDO or AMEND entries, no
	-- entries they took back, amended entries replaced
	IF amending THEN
		undone := ttpdb.undone_entries();
		SELECT coalesce(jsonb_object_agg(l.undoes::text, to_jsonb(a.statements) ORDER BY l.entry), '{}') INTO amendment_of
		FROM ttpdb.log l
		LEFT JOIN ttpdb.amendments a ON ttpdb.caused_by(a.xmin, a.cmin, a.xmax) = l.entry
		WHERE l.kind = 'AMEND' AND l.entry <> ALL (undone) AND l.undoes >= from_entry;
		IF EXISTS (SELECT 1 FROM jsonb_each(amendment_of) x WHERE x.value = 'null') THEN
			RAISE EXCEPTION 'cannot amend: the history holds an amendment whose statements the current role may not see'
				USING ERRCODE = 'insufficient_privilege';
		END IF;
	END IF;

	SELECT count(*) INTO total FROM ttpdb.log l
	WHERE l.entry BETWEEN from_entry AND upto_entry AND l.tables && replay_run.tables;

	FOR e IN
		SELECT l.entry, l.kind, l.statement, l.parameters, l.tables, l.deterministic, l.undoes,
			   l.nondeterminism ->> 'search_path' AS search_path, l.rows, l.nested,
			   decode(l.effects ->> 'digest', 'hex') AS table_digests, l.committed_at, l.ends_transaction
		-- (one entry past the range tells whether the last one ends its transaction)
		FROM (SELECT l.*,
					 lead(l.xid) OVER (ORDER BY l.entry) IS DISTINCT FROM l.xid
					   AND bool_or(l.tables && replay_run.tables) OVER (PARTITION BY l.xid) AS ends_transaction
			  FROM ttpdb.log l WHERE l.entry BETWEEN from_entry AND upto_entry + 1) l
		WHERE l.entry <= upto_entry
		  AND (l.tables && replay_run.tables OR l.entry = amended_entry
			   OR (check_transactions AND l.ends_transaction))
		ORDER BY l.entry
	LOOP
		<<one_entry>>
		BEGIN
		entry := e.entry;
		kind := e.kind;
		detail := NULL;
		digest_matches := NULL;
		done := done + 1;
		EXIT one_entry WHEN NOT (e.tables && replay_run.tables OR e.entry IS NOT DISTINCT FROM amended_entry);
		IF clock_timestamp() - last_note > interval '5 seconds' THEN
			RAISE NOTICE 'replay: % of % entries', done, total;
			last_note := clock_timestamp();
		END IF;

		-- entries the amended history replaces or does not hold
		stmts := NULL;
		IF e.entry = amended_entry THEN
			stmts := coalesce(replacement, '{}');
		ELSIF amending AND e.undoes IS NOT NULL THEN
			replayed := 'skipped';
			detail := format('an %s is not part of the amended history', e.kind);
			RETURN NEXT;
			EXIT one_entry;
		ELSIF amending AND e.entry = ANY (undone) THEN
			IF NOT amendment_of ? e.entry::text THEN
				replayed := 'skipped';
				detail := 'undone, it is not part of the amended history';
				RETURN NEXT;
				EXIT one_entry;
			END IF;
			stmts := ARRAY(SELECT jsonb_array_elements_text(amendment_of -> e.entry::text));
		END IF;
		IF stmts IS NOT NULL THEN
			PERFORM set_config('search_path', format('%I, %s', target, coalesce(e.search_path, 'public')), true);
			FOREACH stmt IN ARRAY stmts LOOP
				rows_done := ttpdb.replay_statement(stmt, NULL, target_ns);
				IF rows_done IS NULL THEN
					RAISE EXCEPTION 'cannot amend with "%"', stmt
						USING ERRCODE = 'feature_not_supported',
							  DETAIL = 'An amendment is one INSERT, UPDATE, DELETE or MERGE per array element, on the tables the amended history holds, named without a schema, calling no volatile function and not reading the transaction''s time.';
				END IF;
			END LOOP;
			PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
			FOREACH src IN ARRAY tables LOOP
				PERFORM ttpdb.replay_digest_take((map->>src::oid::text)::oid::regclass);
			END LOOP;
			diverged := true;
			replayed := 'amended';
			detail := format('replaced by %s statements', cardinality(stmts));
			RETURN NEXT;
			EXIT one_entry;
		END IF;

		IF NOT ttpdb.undoable_kind(e.kind) OR ttpdb.entry_ran_ddl(e.entry) THEN
			replayed := 'skipped';
			detail := 'definitions are not replayed: the replay''s tables have the present ones';
			RETURN NEXT;
			EXIT one_entry;
		END IF;

		-- run it again where that is safe and repeatable
		replayed := NULL;
		IF e.statement = '<insufficient privilege>' THEN
			detail := 'its statement is not visible to the current role';
		ELSIF e.kind IN ('INSERT', 'UPDATE', 'DELETE', 'MERGE') AND e.deterministic
		   AND e.undoes IS NULL AND e.search_path IS NOT NULL AND e.table_digests IS NOT NULL THEN
			BEGIN
				PERFORM set_config('search_path', format('%I, %s', target, e.search_path), true);
				rows_done := ttpdb.replay_statement(e.statement, e.parameters, target_ns);
				PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
				IF rows_done IS NULL THEN
					detail := 'it reads or writes tables the replay does not hold, calls a volatile function or reads the time';
				ELSE
					matched := rows_done = e.rows;
					FOR t IN SELECT s.tbl, s.i FROM unnest(e.tables) WITH ORDINALITY s(tbl, i) LOOP
						CONTINUE WHEN NOT map ? t.tbl::oid::text;
						matched := matched AND
							ttpdb.replay_digest_take((map->>t.tbl::oid::text)::oid::regclass)
							= substring(e.table_digests FROM (t.i::int - 1) * 16 + 1 FOR 16);
					END LOOP;
					IF NOT matched AND NOT diverged THEN
						RAISE EXCEPTION USING ERRCODE = 'TTRPL';
					END IF;
					replayed := 're-executed';
					digest_matches := matched;
				END IF;
			EXCEPTION
				WHEN SQLSTATE 'TTRPL' THEN
					detail := 'run again, it changed other rows than it had';
				WHEN OTHERS THEN
					GET STACKED DIAGNOSTICS detail = MESSAGE_TEXT;
					detail := 'run again, it failed: ' || detail;
			END;
			PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
			FOREACH src IN ARRAY tables LOOP
				PERFORM ttpdb.replay_digest_take((map->>src::oid::text)::oid::regclass);
			END LOOP;
		ELSIF e.deterministic IS DISTINCT FROM true THEN
			detail := 'not deterministic';
		ELSE
			detail := format('%s statements are applied from their effects', e.kind);
		END IF;
		IF replayed IS NOT NULL THEN
			RETURN NEXT;
			EXIT one_entry;
		END IF;

		-- apply it from the versions it ended and made: by key, to the rows
		-- as the entry found them (an amended history may not have them)
		matched := true;
		not_found := 0;
		FOR t IN SELECT s.tbl, s.i FROM unnest(e.tables) WITH ORDINALITY s(tbl, i) LOOP
			CONTINUE WHEN NOT map ? t.tbl::oid::text;
			src := t.tbl::oid::regclass;
			tgt := (map->>src::oid::text)::oid::regclass;
			IF NOT versions_loaded ? src::oid::text THEN
				EXECUTE format('INSERT INTO ttpdb_replay_versions '
							   'SELECT $1, h.created_entry, h.ended_entry, h.version::text '
							   'FROM ttpdb.history(NULL::%s) h '
							   'WHERE h.created_entry BETWEEN $2 AND $3 OR h.ended_entry BETWEEN $2 AND $3',
							   src) USING src::oid, from_entry, upto_entry;
				versions_loaded := versions_loaded || jsonb_build_object(src::oid::text, true);
			END IF;
			-- the SQL for the table, made once per replay
			IF NOT effects_sql ? src::oid::text THEN
				keys := ttpdb.row_key_columns(src);
				IF keys IS NOT NULL THEN
					SELECT string_agg(format('y.%1$I = ($1::%2$s).%1$I', k, src), ' AND '),
						   format('jsonb_build_object(%s)',
								  string_agg(format('%L, (rv.version::%s).%I', k, src, k), ', '))
					INTO key_match, key_json
					FROM unnest(keys) k;
				ELSE
					key_match := format('y::text = $1::%s::text', src);
					key_json := 'rv.version';
				END IF;
				SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
					   string_agg(format('($1::%s).%I', src, a.attname), ', ' ORDER BY a.attnum)
				INTO ins_cols, ins_vals
				FROM pg_attribute a
				WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
				effects_sql := effects_sql || jsonb_build_object(src::oid::text,
					jsonb_build_object('key_match', key_match, 'key_json', key_json,
									   'ins_cols', ins_cols, 'ins_vals', ins_vals));
			END IF;
			key_match := effects_sql -> src::oid::text ->> 'key_match';
			key_json := effects_sql -> src::oid::text ->> 'key_json';
			ins_cols := effects_sql -> src::oid::text ->> 'ins_cols';
			ins_vals := effects_sql -> src::oid::text ->> 'ins_vals';
			FOR r IN EXECUTE format($q$
				SELECT (array_agg(rv.version) FILTER (WHERE rv.ended_entry = $1))[1] AS before,
					   (array_agg(rv.version) FILTER (WHERE rv.created_entry = $1))[1] AS after
				FROM ttpdb_replay_versions rv
				WHERE rv.source = $2 AND (rv.ended_entry = $1 OR rv.created_entry = $1)
				GROUP BY %s
				-- deletes (and key changes) first, then updates, then inserts
				ORDER BY CASE WHEN NOT bool_or(rv.created_entry = $1) THEN 0
							  WHEN bool_or(rv.ended_entry = $1) THEN 1 ELSE 2 END$q$, key_json)
			USING e.entry, src::oid
			LOOP
				IF r.before IS NOT NULL THEN
					-- the row as the entry found it, or nothing to change
					found_at := NULL;
					EXECUTE format('SELECT y.ctid FROM %s y WHERE %s AND y::text = ($1::%s)::text LIMIT 1',
								   tgt, key_match, src)
						INTO found_at USING r.before;
					IF found_at IS NULL THEN
						not_found := not_found + 1;
						CONTINUE;
					END IF;
					EXECUTE format('DELETE FROM %s x WHERE x.ctid = $1', tgt) USING found_at;
				ELSE
					EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s y WHERE %s)', tgt, key_match)
						INTO present USING r.after;
					IF present THEN
						not_found := not_found + 1;
						CONTINUE;		-- an insert of a key there already
					END IF;
				END IF;
				IF r.after IS NOT NULL THEN
					EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE VALUES (%s)', tgt, ins_cols, ins_vals)
						USING r.after;
				END IF;
			END LOOP;
			IF e.table_digests IS NOT NULL THEN
				matched := matched AND ttpdb.replay_digest_take(tgt)
					= substring(e.table_digests FROM (t.i::int - 1) * 16 + 1 FOR 16);
			ELSE
				PERFORM ttpdb.replay_digest_take(tgt);
				matched := NULL;
			END IF;
		END LOOP;
		replayed := 'applied from effects';
		digest_matches := matched;
		IF not_found > 0 THEN
			detail := concat_ws('; ', detail,
								format('%s of its rows were not as it found them, and are left as they are', not_found));
		END IF;
		RETURN NEXT;
		EXCEPTION
			WHEN OTHERS THEN
				-- an amendment's own statements speak for themselves
				IF e.entry = amended_entry THEN
					RAISE;
				END IF;
				GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
										err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
				RAISE EXCEPTION 'replaying log entry %: %', e.entry, err_message
					USING ERRCODE = err_state,
						  DETAIL = coalesce(nullif(err_detail, ''), 'While the replay applied that entry.'),
						  HINT = coalesce(nullif(err_hint, ''), 'ttpdb.replay() of the same history shows each entry''s outcome.');
		END one_entry;
		-- the replay so far against the tables as of the transaction's commit
		IF check_transactions AND e.ends_transaction THEN
			n := 0;
			FOREACH src IN ARRAY tables LOOP
				n := n + ttpdb.replay_differences((map->>src::oid::text)::oid::regclass::text,
												   format('ttpdb.as_of(NULL::%s, %L::timestamptz)', src, e.committed_at));
			END LOOP;
			entry := e.entry;
			kind := 'AS OF check';
			replayed := CASE WHEN n = 0 THEN 'verified' ELSE 'differs' END;
			digest_matches := NULL;
			detail := CASE WHEN n = 0 THEN 'the replayed tables are the tables as of the entry'
						   ELSE format('%s rows differ from the tables as of the entry', n) END;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION ttpdb.replay_run(name, regclass[], bigint, bigint, bigint, text[], boolean) IS
	'Used by ttpdb.replay() and ttpdb.amend()';

-- The rows of two relations with the same columns that differ, as text.
CREATE FUNCTION ttpdb.replay_differences(a text, b text) RETURNS bigint
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	SET extra_float_digits = 3
	SET DateStyle = 'ISO, YMD'
	SET IntervalStyle = postgres
	AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM ((SELECT x::text FROM %1$s x EXCEPT ALL SELECT y::text FROM %2$s y) '
				   'UNION ALL (SELECT y::text FROM %2$s y EXCEPT ALL SELECT x::text FROM %1$s x)) d', a, b)
	INTO n;
	RETURN n;
END
$$;
COMMENT ON FUNCTION ttpdb.replay_differences(text, text) IS
	'Used by ttpdb.replay(): how many rows two relations do not have in common';

CREATE FUNCTION ttpdb.replay(into_schema name, upto_entry bigint DEFAULT NULL,
							 from_entry bigint DEFAULT NULL, tables regclass[] DEFAULT NULL,
							 check_each_transaction boolean DEFAULT false)
	RETURNS TABLE (entry bigint, kind text, replayed text, digest_matches boolean, detail text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	last_of_transaction boolean;
	first_of_transaction bigint;
	at timestamptz;
	src regclass;
	differences bigint := 0;
BEGIN
	IF into_schema IS NULL THEN
		RAISE EXCEPTION 'the schema to replay into must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	upto_entry := coalesce(upto_entry, (SELECT max(l.entry) FROM ttpdb.log l));
	from_entry := coalesce(from_entry, (SELECT min(l.entry) FROM ttpdb.log l));
	IF upto_entry IS NULL THEN
		RAISE EXCEPTION 'the log is empty: there is nothing to replay' USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM ttpdb.log l WHERE l.entry = upto_entry) THEN
		RAISE EXCEPTION 'log entry % does not exist', upto_entry USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM ttpdb.log l WHERE l.entry = from_entry) THEN
		RAISE EXCEPTION 'log entry % does not exist', from_entry USING ERRCODE = 'no_data_found';
	END IF;
	IF from_entry > upto_entry THEN
		RAISE EXCEPTION 'cannot replay from entry % up to an earlier entry %', from_entry, upto_entry
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT min(x) INTO first_of_transaction
	FROM ttpdb.transaction_entries((SELECT l.xid FROM ttpdb.log l WHERE l.entry = from_entry)) x;
	IF first_of_transaction <> from_entry THEN
		RAISE EXCEPTION 'log entry % is not the first of its transaction', from_entry
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = format('A replay starts from the tables as they were before a transaction: from entry %s.',
								first_of_transaction);
	END IF;
	tables := ARRAY(SELECT DISTINCT u FROM unnest(coalesce(tables, ttpdb.tracked_tables())) u);
	IF cardinality(tables) = 0 THEN
		RAISE EXCEPTION 'there is no ttpdb table to replay' USING ERRCODE = 'undefined_table';
	END IF;
	FOREACH src IN ARRAY tables LOOP
		IF (SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.oid = src)
		   IS DISTINCT FROM 'ttpdb' THEN
			RAISE EXCEPTION 'table % is not a ttpdb table', src
				USING ERRCODE = 'wrong_object_type';
		END IF;
		IF NOT has_table_privilege(src, 'SELECT') THEN
			RAISE EXCEPTION 'permission denied for table %', src
				USING ERRCODE = 'insufficient_privilege';
		END IF;
		-- the versions a replay reads are not filtered by the policies
		IF (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = src) THEN
			RAISE EXCEPTION 'cannot replay table %: it has row-level security', src
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'The history a replay reads is not filtered by the table''s policies.';
		END IF;
	END LOOP;
	IF (SELECT count(DISTINCT c.relname) <> count(*) FROM pg_class c WHERE c.oid = ANY (tables)) THEN
		RAISE EXCEPTION 'a replay cannot hold two tables of the same name'
			USING ERRCODE = 'duplicate_table',
				  HINT = 'Replay the tables of different schemas separately, with the tables argument.';
	END IF;

	RETURN QUERY SELECT * FROM ttpdb.replay_run(into_schema, tables, from_entry, upto_entry, NULL, NULL,
												coalesce(check_each_transaction, false));
	IF check_each_transaction THEN
		RETURN;
	END IF;

	-- the result against the tables as of the entry, if it ended a transaction
	SELECT l.committed_at, NOT EXISTS (SELECT 1 FROM ttpdb.log m WHERE m.xid = l.xid AND m.entry > l.entry)
	INTO at, last_of_transaction
	FROM ttpdb.log l WHERE l.entry = upto_entry;
	entry := upto_entry;
	kind := 'AS OF check';
	IF last_of_transaction THEN
		FOREACH src IN ARRAY tables LOOP
			differences := differences + ttpdb.replay_differences(
				format('%I.%I', into_schema, (SELECT c.relname FROM pg_class c WHERE c.oid = src)),
				format('ttpdb.as_of(NULL::%s, %L::timestamptz)', src, at));
		END LOOP;
		replayed := CASE WHEN differences = 0 THEN 'verified' ELSE 'differs' END;
		digest_matches := NULL;
		detail := CASE WHEN differences = 0 THEN 'the replayed tables are the tables as of the entry'
					   ELSE format('%s rows differ from the tables as of the entry', differences) END;
	ELSE
		replayed := 'not checked';
		detail := 'the entry does not end its transaction: nobody saw the tables as they were after it';
	END IF;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION ttpdb.replay(name, bigint, bigint, regclass[], boolean) IS
	'Rebuild ttpdb tables in a new schema by running the log again up to an entry, checking each entry against its recorded effects and the result against the tables as of then';

--------------------------------------------------------------------------
-- AMEND, and the amended log
--------------------------------------------------------------------------

-- Which entry amended which, and with what (a heap table: an UNDO of the
-- amendment does not unmake the fact that it happened).
CREATE TABLE ttpdb.amendments (
	amended_entry bigint NOT NULL,
	statements text[] NOT NULL,
	role_id oid NOT NULL
) USING heap;
COMMENT ON TABLE ttpdb.amendments IS
	'AMENDs: the entry each one replaced and the statements that replaced it (its own entry is its CAUSED_BY)';
SELECT pg_catalog.pg_extension_config_dump('ttpdb.amendments', '');

CREATE FUNCTION ttpdb.log_mark_amend(entry bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'ttpdb_log_mark_amend' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.log_mark_amend(bigint) IS
	'Called by ttpdb.amend(): the running statement''s log entry is an AMEND of an entry (the role must be allowed to write a table the entry changed)';

CREATE FUNCTION ttpdb.log_current_amend() RETURNS bigint
	AS 'MODULE_PATHNAME', 'ttpdb_log_current_amend' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.log_current_amend() IS
	'The entry the running statement was marked an AMEND of, or NULL';

-- An amendment is recorded by the statement marked as it, as its role;
-- its statements are visible as the log shows statements.
ALTER TABLE ttpdb.amendments ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON ttpdb.amendments TO PUBLIC;
CREATE POLICY amendments_read ON ttpdb.amendments FOR SELECT
	USING (ttpdb.log_text_visible(role_id));
CREATE POLICY amendments_record ON ttpdb.amendments FOR INSERT
	WITH CHECK (role_id = current_user::regrole::oid AND amended_entry = ttpdb.log_current_amend());

CREATE FUNCTION ttpdb.amendment_record(amended bigint, statements text[]) RETURNS void
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$ INSERT INTO ttpdb.amendments VALUES ($1, $2, current_user::regrole::oid) $$;
COMMENT ON FUNCTION ttpdb.amendment_record(bigint, text[]) IS
	'Used by ttpdb.amend() to record what it replaced';

-- Replace a past entry with other statements: replay the history from the
-- entry's transaction on with the entry replaced, and change the tables
-- to what that history ends with, as one new entry.  System time stays
-- append-only: the entry and everything after it remain in the log, and
-- AS OF still reads what was.
CREATE FUNCTION ttpdb.amend(entry bigint, statements text[])
	RETURNS TABLE (table_name regclass, row_key jsonb, action text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	SET client_min_messages = warning
	SET extra_float_digits = 3
	SET DateStyle = 'ISO, YMD'
	SET IntervalStyle = postgres
	AS $$
DECLARE
	k text;
	first_of_transaction bigint;
	tables regclass[];
	src regclass;
	scratch name := 'ttpdb_amend_' || pg_backend_pid();
	r record;
	keys name[];
	key_cols text;
	key_match text;
	set_cols text;
	ins_cols text;
	tgt text;
	n bigint;
BEGIN
	IF entry IS NULL THEN
		RAISE EXCEPTION 'the entry to amend must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT l.kind INTO k FROM ttpdb.log l WHERE l.entry = amend.entry;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'log entry % does not exist', amend.entry USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT ttpdb.undoable_kind(k) OR ttpdb.entry_ran_ddl(amend.entry) THEN
		RAISE EXCEPTION 'cannot amend log entry % (%)', amend.entry, k
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Only entries that changed rows can be amended.';
	END IF;
	-- the tables of every entry from then on: they are recomputed
	SELECT array_agg(DISTINCT t::oid::regclass) INTO tables
	FROM ttpdb.log l, unnest(l.tables) t
	WHERE l.entry >= amend.entry AND t::oid::regclass = ANY (ttpdb.tracked_tables());
	IF tables IS NULL THEN
		RAISE EXCEPTION 'log entry % changed no table that still exists', amend.entry
			USING ERRCODE = 'undefined_table';
	END IF;
	FOREACH src IN ARRAY tables LOOP
		IF (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = src) THEN
			RAISE EXCEPTION 'cannot amend: table % has row-level security', src
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'The history an amendment replays is not filtered by the table''s policies.';
		END IF;
		keys := ttpdb.row_key_columns(src);
		IF keys IS NULL THEN
			RAISE EXCEPTION 'cannot amend: table % has no key', src
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Give the table a primary key: the amended history is applied row by row.';
		END IF;
		-- nobody changes them until the amendment commits
		EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', src);
	END LOOP;
	IF (SELECT count(DISTINCT c.relname) <> count(*) FROM pg_class c WHERE c.oid = ANY (tables)) THEN
		RAISE EXCEPTION 'cannot amend: the history from entry % on changed two tables of the same name', amend.entry
			USING ERRCODE = 'duplicate_table';
	END IF;
	SELECT min(x) INTO first_of_transaction
	FROM ttpdb.transaction_entries((SELECT l.xid FROM ttpdb.log l WHERE l.entry = amend.entry)) x;

	PERFORM ttpdb.log_mark_amend(amend.entry);
	PERFORM ttpdb.amendment_record(amend.entry, coalesce(statements, '{}'));
	PERFORM * FROM ttpdb.replay_run(scratch, tables, first_of_transaction,
									(SELECT max(l.entry) FROM ttpdb.log l), amend.entry, statements, false);

	-- change the tables to what the amended history ends with
	FOREACH src IN ARRAY tables LOOP
		keys := ttpdb.row_identity(src);
		tgt := format('%I.%I', scratch, (SELECT c.relname FROM pg_class c WHERE c.oid = src));
		SELECT string_agg(format('%I', kc), ', '),
			   string_agg(format('t.%1$I = a.%1$I', kc), ' AND ')
		INTO key_cols, key_match
		FROM unnest(keys) kc;
		SELECT string_agg(format('%1$I = a.%1$I', a.attname), ', ' ORDER BY a.attnum)
				 FILTER (WHERE a.attname <> ALL (keys) AND a.attidentity <> 'a' AND a.attgenerated = ''),
			   string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '')
		INTO set_cols, ins_cols
		FROM pg_attribute a
		WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped;
		FOR r IN EXECUTE format($q$
			SELECT CASE WHEN a.ttpdb_j IS NULL THEN 'delete' WHEN t.ttpdb_j IS NULL THEN 'insert' ELSE 'update' END AS action,
				   (SELECT jsonb_object_agg(kc, coalesce(a.ttpdb_j, t.ttpdb_j) -> kc) FROM unnest($1::name[]) kc) AS row_key
			FROM (SELECT to_jsonb(x) AS ttpdb_j, x::text AS ttpdb_s, %1$s FROM %2$s x) t
			FULL JOIN (SELECT to_jsonb(y) AS ttpdb_j, y::text AS ttpdb_s, %1$s FROM %3$s y) a USING (%1$s)
			WHERE t.ttpdb_s IS DISTINCT FROM a.ttpdb_s
			ORDER BY CASE WHEN a.ttpdb_j IS NULL THEN 0 WHEN t.ttpdb_j IS NULL THEN 2 ELSE 1 END, 2$q$,
			key_cols, src, tgt)
		USING keys
		LOOP
			table_name := src;
			row_key := r.row_key;
			action := r.action;
			IF r.action = 'delete' THEN
				EXECUTE format('DELETE FROM %s t USING jsonb_populate_record(NULL::%s, $1) a WHERE %s',
							   src, src, key_match) USING r.row_key;
			ELSIF r.action = 'insert' THEN
				EXECUTE format('INSERT INTO %1$s (%2$s) OVERRIDING SYSTEM VALUE SELECT %2$s FROM %3$s a '
							   'WHERE (%4$s) = (SELECT %4$s FROM jsonb_populate_record(NULL::%1$s, $1))',
							   src, ins_cols, tgt, key_cols) USING r.row_key;
			ELSIF set_cols IS NOT NULL THEN
				EXECUTE format('UPDATE %1$s t SET %2$s FROM %3$s a '
							   'WHERE %4$s AND (%5$s) = (SELECT %6$s FROM jsonb_populate_record(NULL::%1$s, $1))',
							   src, set_cols, tgt, key_match,
							   (SELECT string_agg(format('a.%I', kc), ', ') FROM unnest(keys) kc), key_cols)
					USING r.row_key;
			END IF;
			RETURN NEXT;
		END LOOP;
	END LOOP;
	EXECUTE format('DROP SCHEMA %I CASCADE', scratch);
END
$$;
COMMENT ON FUNCTION ttpdb.amend(bigint, text[]) IS
	'Replace a past log entry with other statements and bring the tables to what the amended history gives, as a new entry';

-- The manifesto's amended log: the entries that changed rows, in order,
-- without those undone (by an UNDO not itself undone), with amended ones
-- replaced by their amendments' statements.
CREATE FUNCTION ttpdb.amended_log_rows(OUT entry bigint, OUT statement_no integer, OUT statement text,
									   OUT amended boolean)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	cancelled bigint[] := '{}';
	amendment jsonb := '{}';
	e record;
BEGIN
	-- later entries decide about earlier ones: walk back
	FOR e IN SELECT l.entry, l.undoes, l.kind, m.statements
			 FROM ttpdb.log l
			 LEFT JOIN (SELECT ttpdb.caused_by(a.xmin, a.cmin, a.xmax) AS entry, a.statements
						FROM ttpdb.amendments a) m ON m.entry = l.entry
			 WHERE l.undoes IS NOT NULL ORDER BY l.entry DESC LOOP
		CONTINUE WHEN e.entry = ANY (cancelled);
		cancelled := cancelled || e.undoes;
		IF e.kind = 'AMEND' AND NOT amendment ? e.undoes::text THEN
			-- (statements the current role may not see stay hidden, as in ttpdb.log)
			amendment := amendment || jsonb_build_object(e.undoes::text,
				to_jsonb(coalesce(e.statements, ARRAY['<insufficient privilege>'])));
		END IF;
	END LOOP;
	FOR e IN SELECT l.entry, l.statement, l.undoes FROM ttpdb.log l
			 WHERE l.undoes IS NULL AND ttpdb.undoable_kind(l.kind) AND cardinality(l.tables) > 0
			 ORDER BY l.entry LOOP
		entry := e.entry;
		IF amendment ? e.entry::text THEN
			amended := true;
			statement_no := 0;
			FOR statement IN SELECT jsonb_array_elements_text(amendment -> e.entry::text) LOOP
				statement_no := statement_no + 1;
				RETURN NEXT;
			END LOOP;
		ELSIF NOT e.entry = ANY (cancelled) THEN
			amended := false;
			statement_no := 1;
			statement := e.statement;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION ttpdb.amended_log_rows() IS
	'The rows of ttpdb.amended_log';

CREATE VIEW ttpdb.amended_log AS SELECT * FROM ttpdb.amended_log_rows();
COMMENT ON VIEW ttpdb.amended_log IS
	'The amended log: the entries that changed rows, without those undone, with amended ones replaced by their amendments';
GRANT SELECT ON ttpdb.amended_log TO PUBLIC;

CREATE OR REPLACE FUNCTION ttpdb.undoable_kind(kind text) RETURNS boolean
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT $1 IN ('INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY', 'SELECT', 'DO', 'CALL',
						'EXECUTE', 'COMMIT', 'UNDO', 'AMEND', 'TRUNCATE TABLE', 'FETCH') $$;

--------------------------------------------------------------------------
-- UNDO of DDL, where the log's text tells the reverse
--------------------------------------------------------------------------

-- The entries an UNDO (or AMEND) that was not itself undone took back.
CREATE FUNCTION ttpdb.undone_entries() RETURNS bigint[]
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	undone bigint[] := '{}';
	e record;
BEGIN
	-- later entries decide about earlier ones: walk back
	FOR e IN SELECT l.entry, l.undoes FROM ttpdb.log l WHERE l.undoes IS NOT NULL ORDER BY l.entry DESC LOOP
		CONTINUE WHEN e.entry = ANY (undone);
		undone := undone || e.undoes;
	END LOOP;
	RETURN undone;
END
$$;
COMMENT ON FUNCTION ttpdb.undone_entries() IS
	'The entries taken back by an UNDO or AMEND that was not itself undone';

CREATE FUNCTION ttpdb.ddl_inverse(statement text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'ttpdb_ddl_inverse' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.ddl_inverse(text) IS
	'What undoing a DDL statement takes, if its text tells (drop_table, drop_index, drop_column, rename_table, rename_column), else NULL';

CREATE OR REPLACE FUNCTION ttpdb.undo(entry bigint, on_conflict text DEFAULT 'error')
	RETURNS TABLE (table_name regclass, row_key jsonb, action text, outcome text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	k text;
	stmt text;
	tbls regclass[];
	tbl regclass;
	inverse jsonb;
	later bigint[];
	ddl text;
BEGIN
	SELECT l.kind, l.statement, l.tables INTO k, stmt, tbls FROM ttpdb.log l WHERE l.entry = undo.entry;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'log entry % does not exist', undo.entry
			USING ERRCODE = 'no_data_found';
	END IF;
	IF ttpdb.undoable_kind(k) AND ttpdb.entry_ran_ddl(undo.entry) THEN
		k := k || ' running DDL';
	END IF;
	IF ttpdb.undoable_kind(k) THEN
		IF on_conflict IS NULL OR on_conflict NOT IN ('error', 'skip', 'overwrite') THEN
			RAISE EXCEPTION 'invalid on_conflict value: %', on_conflict
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Use ''error'' (the default), ''skip'' or ''overwrite''.';
		END IF;
		PERFORM ttpdb.log_mark_undo(undo.entry);
		RETURN QUERY SELECT * FROM ttpdb.undo_changes(undo.entry, NULL, on_conflict);
		RETURN;
	END IF;

	-- DDL: possible when the statement's text tells its reverse
	IF k NOT LIKE '% running DDL' AND stmt <> '<insufficient privilege>' THEN
		inverse := ttpdb.ddl_inverse(stmt);
	END IF;
	IF inverse IS NULL OR cardinality(tbls) <> 1 THEN
		RAISE EXCEPTION 'cannot undo log entry % (%)', undo.entry, k
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'The log does not record the definitions a DDL statement replaced.',
				  HINT = 'CREATE TABLE, CREATE INDEX with a name, ALTER TABLE ... ADD COLUMN and renames of tables and columns can be undone; for the rest, write the reverse statement yourself.';
	END IF;
	tbl := tbls[1];
	IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = tbl) THEN
		RAISE EXCEPTION 'cannot undo log entry %: the table it changed no longer exists', undo.entry
			USING ERRCODE = 'undefined_table';
	END IF;
	-- what was done to the table since (and not undone) would be lost or broken
	SELECT array_agg(l.entry ORDER BY l.entry) INTO later
	FROM ttpdb.log l
	WHERE l.entry > undo.entry AND l.tables && ARRAY[tbl]
	  AND NOT (l.kind = 'UNDO' AND l.undoes > undo.entry)	-- an UNDO of a later entry
	  AND l.entry <> ALL (ttpdb.undone_entries());
	IF later IS NOT NULL THEN
		RAISE EXCEPTION 'cannot undo log entry %: later entries changed table %', undo.entry, tbl
			USING ERRCODE = 'serialization_failure',
				  DETAIL = format('Later entries: %s.', array_to_string(later[1:10], ', ')
								  || CASE WHEN cardinality(later) > 10 THEN ', ...' ELSE '' END),
				  HINT = 'Undo them first, the latest first.';
	END IF;
	ddl := CASE inverse ->> 'undo'
		WHEN 'drop_table' THEN format('DROP TABLE %s', tbl)
		WHEN 'drop_index' THEN format('DROP INDEX %I.%I',
									  (SELECT c.relnamespace::regnamespace::name FROM pg_class c WHERE c.oid = tbl),
									  inverse ->> 'index')
		WHEN 'drop_column' THEN format('ALTER TABLE %s DROP COLUMN %I', tbl, inverse ->> 'column')
		WHEN 'rename_table' THEN format('ALTER TABLE %s RENAME TO %I', tbl, inverse ->> 'to')
		WHEN 'rename_column' THEN format('ALTER TABLE %s RENAME COLUMN %I TO %I', tbl,
										 inverse ->> 'from', inverse ->> 'to') END;
	table_name := tbl;
	PERFORM ttpdb.log_mark_undo(undo.entry);
	EXECUTE ddl;
	row_key := NULL;
	action := inverse ->> 'undo';
	outcome := 'done';
	RETURN NEXT;
END
$$;

--------------------------------------------------------------------------
-- Replay of a branch
--------------------------------------------------------------------------

-- A branch as of a log entry, rebuilt from the log: its changes tables are
-- replayed (they are ttpdb tables like any other), and a view per table
-- lays them over the parent's rows as of the fork, as the branch's own
-- views do.
CREATE FUNCTION ttpdb.replay_branch(into_schema name, branch text, upto_entry bigint DEFAULT NULL)
	RETURNS TABLE (entry bigint, kind text, replayed text, digest_matches boolean, detail text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	b ttpdb.branches;
	bt ttpdb.branch_tables;
	changes regclass[];
	first_entry bigint;
	cols text;
	key_match text;
BEGIN
	b := ttpdb.branch_get(branch);
	SELECT array_agg(t.changes_table ORDER BY t.source_table::text) INTO changes
	FROM ttpdb.branch_tables t WHERE t.branch = b.name;
	-- from the transaction that made the branch
	SELECT min(x) INTO first_entry
	FROM ttpdb.transaction_entries((
		SELECT l.xid FROM ttpdb.log l WHERE l.tables && changes ORDER BY l.entry LIMIT 1)) x;
	RETURN QUERY SELECT * FROM ttpdb.replay(into_schema, upto_entry, first_entry, changes);
	FOR bt IN SELECT * FROM ttpdb.branch_tables t WHERE t.branch = b.name ORDER BY t.source_table::text LOOP
		PERFORM ttpdb.branch_check_columns(b.name, bt.source_table, bt.changes_table);
		EXECUTE format('ALTER TABLE %I.%I RENAME TO %I', into_schema,
					   (SELECT c.relname FROM pg_class c WHERE c.oid = bt.changes_table),
					   (SELECT c.relname FROM pg_class c WHERE c.oid = bt.changes_table) || '_changes');
		SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO cols
		FROM pg_attribute a WHERE a.attrelid = bt.source_table AND a.attnum > 0 AND NOT a.attisdropped;
		SELECT string_agg(format('c.%1$I = p.%1$I', k), ' AND ') INTO key_match FROM unnest(bt.key_columns) k;
		EXECUTE format('CREATE VIEW %1$I.%2$I AS SELECT %3$s FROM %4$s p '
					   'WHERE NOT EXISTS (SELECT 1 FROM %1$I.%5$I c WHERE %6$s) '
					   'UNION ALL SELECT %3$s FROM %1$I.%5$I c WHERE NOT c.ttpdb_deleted',
					   into_schema, (SELECT c.relname FROM pg_class c WHERE c.oid = bt.source_table), cols,
					   ttpdb.branch_rows_sql(b.parent, bt.source_table, quote_literal(b.forked_at) || '::timestamptz'),
					   (SELECT c.relname FROM pg_class c WHERE c.oid = bt.changes_table) || '_changes', key_match);
	END LOOP;
END
$$;
COMMENT ON FUNCTION ttpdb.replay_branch(name, text, bigint) IS
	'Rebuild a branch as of a log entry from the log, into a new schema: its changes replayed, a view per table over its parent as of the fork';
