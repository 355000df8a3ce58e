-- scripts/demo.sql: the guided tour run by scripts/demo.sh.
-- Each step says what it shows, then runs it.
\set ECHO none
\pset footer off

\echo
\echo '== ttpdb guided tour'
\echo
\echo 'The server was started with shared_preload_libraries = ''ttpdb''.'
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

\echo
\echo '== 1. Distributions are values'
\echo
\echo 'A sensor that cannot be sure of the temperature stores what it knows:'
\echo 'each possible reading with its probability.  Type pdist holds that'
\echo 'inline, like any other value (WAL-logged, replicated, dumped).'
CREATE TABLE readings (
	sensor text,
	taken_at timestamptz,
	temperature pdist
);
INSERT INTO readings VALUES
	('boiler', '2024-01-15 08:00+00', '{20.1: 0.2, 20.5: 0.5, 21: 0.3}'),
	('boiler', '2024-01-15 09:00+00', '{20.8: 0.6, 21.4: 0.4}'),
	('boiler', '2024-01-15 11:00+00', normal(23.0, 0.5)),
	('roof',   '2024-01-15 08:00+00', normal(-2.0, 1.5)),
	('roof',   '2024-01-15 09:00+00', '{-1.5: 0.1, -1: 0.8, -0.5: 0.1}'),
	('roof',   '2024-01-15 11:00+00', 0.5);
\echo
SELECT sensor, taken_at, temperature FROM readings ORDER BY sensor, taken_at;

\echo
\echo 'Ask each reading what it knows: its expected value, a 95% interval,'
\echo 'and how uncertain it is (entropy in bits; the ~ operator is the same).'
SELECT sensor, taken_at,
	round(expected_value(temperature)::numeric, 2) AS expected,
	round((confidence_interval(temperature, 0.95)).lower::numeric, 2) AS low,
	round((confidence_interval(temperature, 0.95)).upper::numeric, 2) AS high,
	round((~ temperature)::numeric, 2) AS uncertainty_bits
FROM readings ORDER BY sensor, taken_at;

\echo
\echo 'COLLAPSE keeps the most likely outcomes until they hold 80% of the'
\echo 'probability, and renormalises (d @ 0.8 is the same):'
SELECT taken_at, temperature, collapse(temperature, 0.8) AS collapsed
FROM readings WHERE sensor = 'boiler' AND kind(temperature) = 'discrete' ORDER BY taken_at;

\echo
\echo 'A picture, for psql:'
SELECT histogram(temperature, 30) FROM readings
WHERE sensor = 'boiler' AND taken_at = '2024-01-15 08:00+00';

\echo
\echo 'Comparisons answer with a probability.  Which readings are more than'
\echo '50% likely to be above 21 degrees?'
SELECT sensor, taken_at, round((temperature %> 21)::numeric, 3) AS p_above_21
FROM readings WHERE temperature %> 21 > 0.5 ORDER BY taken_at;

\echo
\echo 'Arithmetic treats readings as independent.  How much warmer is the'
\echo 'boiler than the roof at 09:00, and how likely is it more than 22 degrees?'
SELECT histogram(b.temperature - r.temperature, 30) AS difference,
	round(((b.temperature - r.temperature) %> 22)::numeric, 3) AS p_over_22
FROM readings b JOIN readings r USING (taken_at)
WHERE b.sensor = 'boiler' AND r.sensor = 'roof' AND taken_at = '2024-01-15 09:00+00';

\echo
\echo 'No reading at 10:00?  Interpolate between the observations around it'
\echo '(the 09:00 reading is discrete, the 11:00 one a normal, so the result'
\echo 'is a discrete approximation; here is its summary):'
SELECT round(expected_value(at10)::numeric, 2) AS expected,
	round((confidence_interval(at10, 0.95)).lower::numeric, 2) AS low,
	round((confidence_interval(at10, 0.95)).upper::numeric, 2) AS high,
	kind(at10), outcome_count(at10) AS outcomes
FROM (SELECT interpolate(a.temperature, a.taken_at, b.temperature, b.taken_at,
                         '2024-01-15 10:00+00') AS at10
      FROM readings a, readings b
      WHERE a.sensor = 'boiler' AND b.sensor = 'boiler'
        AND a.taken_at = '2024-01-15 09:00+00' AND b.taken_at = '2024-01-15 11:00+00') s;

\echo
\echo 'Aggregates: the distribution of the day''s mean per sensor, its'
\echo 'expected value with a 95% interval, and the expected number of'
\echo 'readings above 0 degrees:'
SELECT sensor, round((e).estimate::numeric, 2) AS mean, round((e).lower::numeric, 2) AS low,
	round((e).upper::numeric, 2) AS high, round(expected_count::numeric, 2) AS expected_above_0
FROM (SELECT sensor, avg_ci(temperature, 0.95) AS e, expected_count(temperature %> 0)
      FROM readings GROUP BY sensor) s
ORDER BY sensor;

\echo
\echo '== 2. Every row remembers every state'
\echo
\echo 'A table USING ttpdb keeps each version an UPDATE, DELETE or TRUNCATE'
\echo 'replaces, stamped with the commit time of the transactions that made'
\echo 'and ended it.'
CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric) USING ttpdb;
INSERT INTO accounts VALUES (1, 'alice', 100), (2, 'bob', 250), (3, 'carol', 75);
SELECT max(committed_at) AS before_fees FROM ttpdb.commit_times \gset
\echo
\echo 'Someone runs a fee update without a WHERE clause:'
\echo '    UPDATE accounts SET balance = balance - 10;'
UPDATE accounts SET balance = balance - 10;
SELECT * FROM accounts ORDER BY id;

\echo
\echo 'Read the table as it was before, with ttpdb.as_of (every query, every'
\echo 'ttpdb table, until RESET):'
SET ttpdb.as_of = :'before_fees';
SELECT * FROM accounts ORDER BY id;
RESET ttpdb.as_of;

\echo
\echo 'Or compare then and now in one query:'
SELECT a.owner, p.balance AS before_fees, a.balance AS now
FROM ttpdb.as_of(NULL::accounts, :'before_fees') p JOIN accounts a USING (id)
ORDER BY a.id;

\echo
\echo 'Every version of alice''s account, with the time it was valid:'
SELECT valid_from, valid_to, (version).balance
FROM ttpdb.history(NULL::accounts) WHERE (version).id = 1 ORDER BY valid_from;

\echo
\echo 'The temporal store, per table:'
SELECT * FROM ttpdb.history_stats;
\echo 'Committed versions are packed, many to a row and compressed together, as'
\echo 'writers go (every ttpdb.pack_after versions); ttpdb.pack_history() packs now.'
\echo 'Reads answer the same. (Three versions gain nothing; on a busy table a packed'
\echo 'version takes about 30 bytes, a fifth of a trigger-based history row: doc/benchmarks.md.)'
SELECT ttpdb.pack_history('accounts') AS packed;
SELECT table_name, versions, packed_versions, bytes_per_version FROM ttpdb.history_stats;

\echo
\echo '== 3. Every change is a statement in the log'
\echo
\echo 'Each statement that changed a ttpdb table is an entry of ttpdb.log,'
\echo 'written in its own transaction and numbered in commit order: what ran,'
\echo 'who ran it, when it committed, what it changed.'
SELECT entry, committed_at::time(0) AS committed, role, kind, statement, rows
FROM ttpdb.log ORDER BY entry;

\echo
\echo 'CAUSED_BY: which statement produced each row as it is now?'
SELECT a.id, a.owner, a.balance, l.entry, l.statement
FROM accounts a JOIN ttpdb.log l ON l.entry = ttpdb.caused_by(a.xmin, a.cmin, a.xmax)
ORDER BY a.id;

\echo
\echo 'A prepared statement is logged with its parameters, and what a'
\echo 'statement needs to run again (its timestamps, the random seed it drew'
\echo 'with, sequence values) is recorded too:'
PREPARE deposit(int, numeric) AS UPDATE accounts SET balance = balance + $2 WHERE id = $1;
EXECUTE deposit(2, 40);
DEALLOCATE deposit;
SELECT entry, statement, parameters, effects->>'updated' AS updated
FROM ttpdb.log ORDER BY entry DESC LIMIT 1;

\echo
\echo '== 4. UNDO the 2 a.m. mistake, without lying about the past'
\echo
\echo 'The fee update was a mistake.  ttpdb.undo() puts back the rows it'
\echo 'changed, as a new logged statement; bob''s deposit, made after it, stays.'
SELECT entry AS fee_entry FROM ttpdb.log WHERE statement LIKE 'UPDATE accounts SET balance = balance - 10%' \gset
SELECT * FROM ttpdb.undo(:fee_entry, 'skip');
SELECT * FROM accounts ORDER BY id;
\echo
\echo 'bob''s row was changed again after the fee (the deposit): undo reports'
\echo 'such rows as conflicts; with ''skip'' it left it as it is.  The log keeps'
\echo 'the mistake and its undo; the past still reads as it was:'
SELECT entry, kind, undoes, statement FROM ttpdb.log ORDER BY entry DESC LIMIT 3;

\echo
\echo 'Entries are chained by SHA-256 hashes; ttpdb.verify() recomputes the'
\echo 'chain (first_broken_entry would say where someone tampered with it):'
SELECT * FROM ttpdb.verify();

\echo
\echo '== 5. Stage a risky change in a branch, then publish it'
\echo
\echo 'Month-end interest is a batch job.  Run it in a branch first: a branch'
\echo 'is a schema whose views show the tables as they were when it was made,'
\echo 'plus its own changes.  Making one copies no rows.'
SELECT * FROM ttpdb.branch('staging', tables => '{accounts}');
UPDATE staging.accounts SET balance = round(balance * 1.02, 2);
\echo
\echo 'Production has not moved; the branch has.  Compare them row by row:'
SELECT * FROM accounts ORDER BY id;
SELECT table_name, row_key, difference, a->>'balance' AS production, b->>'balance' AS staging
FROM ttpdb.compare('main', 'staging');
\echo
\echo 'Meanwhile production goes on: carol pays in 25.'
UPDATE accounts SET balance = balance + 25 WHERE id = 3;
\echo
\echo 'Publish checks every row three ways (as branched, in the branch, in'
\echo 'production): carol''s row changed in both, so it is a conflict.'
\set ON_ERROR_STOP 0
\set SHOW_CONTEXT never
SELECT * FROM ttpdb.publish('staging');
\set SHOW_CONTEXT errors
\set ON_ERROR_STOP 1
\echo
\echo 'Keep production''s carol and publish the rest, atomically, as one log'
\echo 'entry (which ttpdb.undo() could take back):'
SELECT * FROM ttpdb.publish('staging', on_conflict => 'skip');
SELECT * FROM accounts ORDER BY id;
\echo
\echo 'Three histories: the log (what ran), the names (where main and staging'
\echo 'pointed, when) and the versions (which state each one came from):'
SELECT name, version, since::time(0) AS since, how FROM ttpdb.name_history ORDER BY entry, name;
SELECT ttpdb.drop_branch('staging');

\echo
\echo 'The tables readings and accounts and type pdist are yours to explore.  Try:'
\echo '    SELECT * FROM outcomes(''{"red": 0.7, "blue": 0.3}'');'
\echo '    SET ttpdb.as_of = ''<a time from ttpdb.commit_times>''; SELECT * FROM accounts;'
\echo '    SELECT * FROM ttpdb.log;'
\echo '    SELECT * FROM ttpdb.branch(''try'', tables => ''{accounts}''); -- then write to try.accounts'
\echo '    SELECT * FROM ttpdb.replay(''rebuilt'');  -- the tables rebuilt from the log'
\echo '    \\df ttpdb.*'
