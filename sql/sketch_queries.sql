--
-- sketch_queries: the six example queries of the TTPDB sketch ("Design
-- Temporal Probabilistic Query Language") written in ttpdb SQL, on a small
-- set of temperature readings.  doc/sketch_queries.md shows them side by side.
--
-- Two times are at play:
--   valid time  = when a temperature was measured: the column measured_at;
--   system time = when the database knew it: commit stamps, read back with
--                 SET ttpdb.as_of or ttpdb.as_of(NULL::t, at).
-- System times are taken from ttpdb.commit_times and log entries are printed
-- relative to :base, so the expected output holds no clock reading or xid.
--
SET search_path = public, ttpdb;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset

-- Three sensors: north and south report a normal distribution, roof is a
-- coarse sensor reporting 0.5-degree steps with probabilities.
CREATE TABLE readings (
	sensor text NOT NULL,
	measured_at timestamptz NOT NULL,     -- valid time
	temperature pdist NOT NULL,
	PRIMARY KEY (sensor, measured_at)
) USING ttpdb;

-- System time t1: the day's readings are loaded (two statements).  The roof
-- sensor got stuck once, at 17:45, and reported a certain 85 degrees.
INSERT INTO readings VALUES
	('north', '2024-01-14 23:00+00', normal(18.0, 0.4)),
	('north', '2024-01-15 06:00+00', normal(17.5, 0.4)),
	('north', '2024-01-15 14:00+00', normal(20.0, 0.4)),
	('north', '2024-01-15 15:00+00', normal(22.0, 0.4)),
	('north', '2024-01-15 18:00+00', normal(19.5, 0.4)),
	('south', '2024-01-15 06:00+00', normal(16.0, 0.5)),
	('south', '2024-01-15 12:00+00', normal(20.5, 0.5)),
	('south', '2024-01-15 18:00+00', normal(18.5, 0.5));
SELECT max(entry) AS e_load FROM ttpdb.log \gset
INSERT INTO readings VALUES
	('roof', '2024-01-15 12:00+00', '{24: 0.2, 24.5: 0.6, 25: 0.2}'),
	('roof', '2024-01-15 17:00+00', '{21: 0.1, 21.5: 0.7, 22: 0.2}'),
	('roof', '2024-01-15 17:30+00', '{21: 0.3, 21.5: 0.55, 22: 0.15}'),
	('roof', '2024-01-15 17:45+00', '85'),
	('roof', '2024-01-15 18:00+00', '{20.5: 0.1, 21: 0.85, 21.5: 0.05}');
SELECT max(entry) AS e_load_roof FROM ttpdb.log \gset
SELECT max(committed_at) AS t1 FROM ttpdb.commit_times \gset

-- System time t2: the north sensor is recalibrated: its readings of the 15th
-- read 0.5 degrees high, and are in fact twice as precise.
UPDATE readings SET temperature = normal(expected_value(temperature) - 0.5, 0.2)
WHERE sensor = 'north' AND measured_at >= '2024-01-15 00:00+00';
SELECT max(entry) AS e_recalibrate FROM ttpdb.log \gset
SELECT max(committed_at) AS t2 FROM ttpdb.commit_times \gset

-- Then one transaction cleans up: the stuck reading goes, and a south
-- reading of 14:00 that was buffered on the device arrives late.
BEGIN;
DELETE FROM readings WHERE sensor = 'roof' AND temperature = '85';
INSERT INTO readings VALUES ('south', '2024-01-15 14:00+00', normal(23.0, 0.5));
COMMIT;
SELECT max(entry) AS e_cleanup FROM ttpdb.log \gset
SELECT xid AS cleanup_xid FROM ttpdb.log WHERE entry = :e_cleanup \gset

SELECT :e_load - :base AS load, :e_load_roof - :base AS load_roof,
	:e_recalibrate - :base AS recalibrate, :e_cleanup - :base AS cleanup_last;
SELECT :'t1'::timestamptz < :'t2'::timestamptz AS t1_before_t2,
	:'t2'::timestamptz < now() AS t2_in_the_past;

-- A sensor's temperature at any valid time: the reading taken then, or the
-- interpolation between the readings around it (never extrapolated).  It
-- reads the table, so it follows ttpdb.as_of like any query.
CREATE FUNCTION temperature_at(s text, at timestamptz) RETURNS pdist
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN a.measured_at = at THEN a.temperature
		ELSE interpolate(a.temperature, a.measured_at, b.temperature, b.measured_at, at) END
	FROM (SELECT temperature, measured_at FROM readings
		WHERE sensor = s AND measured_at <= at ORDER BY measured_at DESC LIMIT 1) a,
	     (SELECT temperature, measured_at FROM readings
		WHERE sensor = s AND measured_at >= at ORDER BY measured_at LIMIT 1) b
$$;

--
-- Query 1: value with probability at a specific time.
--   SELECT user_count AT TIME '2024-01-15 14:30:00' WITH CONFIDENCE 0.95;
-- AT TIME is read as both times: the temperature at valid time 14:30, as
-- the database knew it at system time t1 (SET ttpdb.as_of) and now; WITH
-- CONFIDENCE 0.95 is confidence_interval(d, 0.95).
--
SET ttpdb.as_of = :'t1';
SELECT s.sensor, round(expected_value(d)::numeric, 3) AS expected,
	round((confidence_interval(d, 0.95)).lower::numeric, 3) AS lower,
	round((confidence_interval(d, 0.95)).upper::numeric, 3) AS upper
FROM (VALUES ('north'), ('south'), ('roof')) s(sensor),
	LATERAL temperature_at(s.sensor, '2024-01-15 14:30+00') d
ORDER BY s.sensor;
RESET ttpdb.as_of;
SELECT s.sensor, round(expected_value(d)::numeric, 3) AS expected,
	round((confidence_interval(d, 0.95)).lower::numeric, 3) AS lower,
	round((confidence_interval(d, 0.95)).upper::numeric, 3) AS upper
FROM (VALUES ('north'), ('south'), ('roof')) s(sensor),
	LATERAL temperature_at(s.sensor, '2024-01-15 14:30+00') d
ORDER BY s.sensor;
-- The roof's interpolation is a distribution, not just an interval.
SELECT temperature_at('roof', '2024-01-15 14:30+00');
-- A reading taken exactly then, in the function form of AS OF.
SELECT 'as of t1' AS known, r.sensor, ci.lower::numeric(6,3), ci.upper::numeric(6,3)
FROM ttpdb.as_of(NULL::readings, :'t1') r, confidence_interval(r.temperature, 0.95) ci
WHERE r.measured_at = '2024-01-15 14:00+00'
UNION ALL
SELECT 'now', r.sensor, ci.lower::numeric(6,3), ci.upper::numeric(6,3)
FROM readings r, confidence_interval(r.temperature, 0.95) ci
WHERE r.measured_at = '2024-01-15 14:00+00'
ORDER BY 1, 2;

--
-- Query 2: time travel.
--   SELECT * FROM users AS OF TIME '2024-01-01' WHERE age > 25;
-- AS OF TIME is system time: SET ttpdb.as_of for every table of every query,
-- or ttpdb.as_of(NULL::t, at) for one table in one query.  "age > 25"
-- becomes "expected temperature above 21".
--
SET ttpdb.as_of = :'t1';
SELECT * FROM readings WHERE expected_value(temperature) > 21
ORDER BY sensor, measured_at;
RESET ttpdb.as_of;
SELECT * FROM ttpdb.as_of(NULL::readings, :'t1') WHERE expected_value(temperature) > 21
ORDER BY sensor, measured_at;
-- The present differs: no stuck reading, the late south reading, north recalibrated.
SELECT * FROM readings WHERE expected_value(temperature) > 21
ORDER BY sensor, measured_at;
-- Then and now side by side, with the probability of being above 21.
SELECT coalesce(p.sensor, r.sensor) AS sensor, coalesce(p.measured_at, r.measured_at) AS measured_at,
	round((p.temperature %> 21)::numeric, 3) AS p_above_21_then,
	round((r.temperature %> 21)::numeric, 3) AS p_above_21_now
FROM ttpdb.as_of(NULL::readings, :'t1') p FULL JOIN readings r USING (sensor, measured_at)
WHERE expected_value(p.temperature) > 21 OR expected_value(r.temperature) > 21
ORDER BY 1, 2;

--
-- Query 3: probabilistic aggregation over a valid-time window.
--   SELECT AVG(temperature) WITH CONFIDENCE_INTERVAL FROM sensors
--   BETWEEN TIME '2024-01-15 00:00:00' AND '2024-01-15 23:59:59';
-- avg_ci(pdist, level) gives the expected mean with the interval of the
-- distribution of the mean; BETWEEN TIME is a condition on measured_at (a
-- half-open range: the whole day, its last second included).
--
SELECT sensor, round(estimate::numeric, 3) AS estimate, round(lower::numeric, 3) AS lower,
	round(upper::numeric, 3) AS upper, level, n
FROM (SELECT sensor, (avg_ci(temperature, 0.95)).*
	FROM readings WHERE measured_at <@ tstzrange('2024-01-15 00:00+00', '2024-01-16 00:00+00')
	GROUP BY sensor) a
ORDER BY sensor;
-- The same as known at t1: the stuck reading drags the roof's mean up.
SELECT sensor, round(estimate::numeric, 3) AS estimate, round(lower::numeric, 3) AS lower,
	round(upper::numeric, 3) AS upper, level, n
FROM (SELECT sensor, (avg_ci(temperature, 0.95)).*
	FROM ttpdb.as_of(NULL::readings, :'t1')
	WHERE measured_at <@ tstzrange('2024-01-15 00:00+00', '2024-01-16 00:00+00')
	GROUP BY sensor) a
ORDER BY sensor;
-- All sensors together, now.
SELECT round(estimate::numeric, 3) AS estimate, round(lower::numeric, 3) AS lower,
	round(upper::numeric, 3) AS upper, n
FROM (SELECT (avg_ci(temperature, 0.95)).* FROM readings
	WHERE measured_at <@ tstzrange('2024-01-15 00:00+00', '2024-01-16 00:00+00')) a;

--
-- Query 4: causal query.
--   SELECT * FROM transactions WHERE CAUSED_BY transaction_id = 12345;
-- Every row version knows the log entry (statement) that created it:
-- ttpdb.caused_by(xmin, cmin, xmax), or the operator ROW(xmin, cmin, xmax) <~ entry.
--
-- The rows the recalibration caused (the 14th's north reading was not touched):
SELECT sensor, measured_at, temperature FROM readings
WHERE ROW(xmin, cmin, xmax) <~ :e_recalibrate
ORDER BY sensor, measured_at;
SELECT count(*) AS same_with_function FROM readings
WHERE ttpdb.caused_by(xmin, cmin, xmax) = :e_recalibrate;
-- The statement that caused each present north or south row.
SELECT r.sensor, r.measured_at, l.entry - :base AS entry, l.kind,
	split_part(l.statement, E'\n', 1) AS statement
FROM readings r JOIN ttpdb.log l ON l.entry = ttpdb.caused_by(r.xmin, r.cmin, r.xmax)
WHERE r.sensor <> 'roof'
ORDER BY r.sensor, r.measured_at;
-- Everything one transaction caused, the sketch's "transaction_id = 12345":
-- the versions its statements created and those they ended.
SELECT CASE WHEN h.created_entry = l.entry THEN 'created' ELSE 'ended' END AS what,
	l.entry - :base AS entry, l.kind, (h.version).sensor, (h.version).measured_at,
	(h.version).temperature
FROM ttpdb.log l
JOIN ttpdb.history(NULL::readings) h ON l.entry IN (h.created_entry, h.ended_entry)
WHERE l.xid = :'cleanup_xid'
ORDER BY l.entry, what;
-- Kept versions keep their cause: the rows as of t1 with their entries.
SELECT created_entry - :base AS entry, count(*) AS rows
FROM ttpdb.as_of_versions(NULL::readings, :'t1')
GROUP BY created_entry ORDER BY 1;

--
-- Query 5: uncertainty threshold.
--   SELECT * FROM measurements WHERE UNCERTAINTY < 0.1 AT TIME '2024-01-15';
-- uncertainty(d) (or ~ d) is the Shannon entropy in bits; AT TIME is the
-- readings of the 15th (valid time) as known at t1 (system time), and now.
-- For a normal reading it is the differential entropy, which falls below
-- zero when the standard deviation is under 0.242: the recalibrated north
-- readings (0.2) pass the threshold, the others (0.4, 0.5) do not.
--
SELECT sensor, measured_at, temperature, round(uncertainty(temperature)::numeric, 3) AS bits
FROM ttpdb.as_of(NULL::readings, :'t1')
WHERE uncertainty(temperature) < 0.1
	AND measured_at <@ tstzrange('2024-01-15 00:00+00', '2024-01-16 00:00+00')
ORDER BY sensor, measured_at;
SELECT sensor, measured_at, temperature, round((~ temperature)::numeric, 3) AS bits
FROM readings
WHERE ~ temperature < 0.1
	AND measured_at <@ tstzrange('2024-01-15 00:00+00', '2024-01-16 00:00+00')
ORDER BY sensor, measured_at;
-- Every reading of the 15th, now, with its uncertainty and spread.
SELECT sensor, measured_at, kind(temperature), round(uncertainty(temperature)::numeric, 3) AS bits,
	round(stddev(temperature)::numeric, 3) AS stddev
FROM readings WHERE measured_at <@ tstzrange('2024-01-15 00:00+00', '2024-01-16 00:00+00')
ORDER BY sensor, measured_at;

--
-- Query 6: temporal probability collapse.
--   SELECT COLLAPSE(stock_price, 0.8) FROM stocks WHERE symbol = 'ACME'
--   BETWEEN TIME NOW() - INTERVAL '1 hour' AND NOW();
-- collapse(d, 0.8) keeps the most likely outcomes up to 80% of the mass; the
-- window is the hour before the roof's last reading (live data would use
-- now() - interval '1 hour' and now()).
--
\set window_end '2024-01-15 18:00+00'
SELECT measured_at, temperature, collapse(temperature, 0.8) AS collapsed
FROM readings
WHERE sensor = 'roof'
	AND measured_at <@ tstzrange(:'window_end'::timestamptz - interval '1 hour', :'window_end', '[]')
ORDER BY measured_at;
-- Pooling the hour's readings into one distribution, then collapsing it:
-- now, and as known at t1 (when the stuck 85 was in the window).
SELECT collapse(mixture(temperature), 0.8) AS hour_now, collapse(mixture(temperature)) AS most_likely
FROM readings
WHERE sensor = 'roof'
	AND measured_at <@ tstzrange(:'window_end'::timestamptz - interval '1 hour', :'window_end', '[]');
SELECT collapse(mixture(temperature), 0.8) AS hour_then, collapse(mixture(temperature)) AS most_likely
FROM ttpdb.as_of(NULL::readings, :'t1')
WHERE sensor = 'roof'
	AND measured_at <@ tstzrange(:'window_end'::timestamptz - interval '1 hour', :'window_end', '[]');

DROP FUNCTION temperature_at(text, timestamptz);
DROP TABLE readings;
RESET DateStyle;
RESET TimeZone;
