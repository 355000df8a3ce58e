-- tutorial: the SQL of doc/tutorial.md, block by block, in order (checked
-- by test/tutorial_sync.sh); its output, expected/tutorial.out, is what the
-- tutorial shows.  Edit both together.
SET search_path = public, ttpdb;
\set SHOW_CONTEXT never
SELECT coalesce(max(entry), 0) AS base FROM ttpdb.log \gset

CREATE ROLE crm_sync;
CREATE ROLE ana;
CREATE TABLE bookings (
    id        int PRIMARY KEY,
    customer  text NOT NULL,
    closed_on date NOT NULL,
    amount    pdist NOT NULL
) USING ttpdb;
GRANT USAGE ON SCHEMA ttpdb TO crm_sync, ana;
GRANT SELECT, INSERT, UPDATE ON bookings TO crm_sync, ana;

CREATE VIEW monthly_bookings AS
SELECT month, deals,
       round(expected_value(total)::numeric) AS expected,
       round((confidence_interval(total, 0.9)).lower::numeric) AS low_90,
       round((confidence_interval(total, 0.9)).upper::numeric) AS high_90,
       round((total %>= 800000)::numeric, 2) AS p_plan
FROM (SELECT to_char(closed_on, 'YYYY-MM') AS month,
             count(*) AS deals, sum(amount) AS total
      FROM bookings GROUP BY 1) s;

SET ROLE crm_sync;
COPY bookings FROM STDIN (FORMAT csv);
101,Acme GmbH,2025-05-06,120000
102,Borealis AB,2025-05-14,85000
103,Cobalt Ltd,2025-05-22,140000
201,Dunmore plc,2025-06-03,240000
202,Eskerfield,2025-06-09,250000
203,Fjord Systems,2025-06-12,180000
204,Greyhaven,2025-06-18,"normal(90000, 12000)"
205,Halcyon,2025-06-24,"{0: 0.25, 160000: 0.75}"
206,Ironbridge,2025-06-27,"{0: 0.1, 75000: 0.9}"
\.
RESET ROLE;

SELECT * FROM monthly_bookings ORDER BY month;
SELECT now() AS bob_read \gset

SET ROLE ana;
UPDATE bookings SET amount = 25000 WHERE id = 202;
RESET ROLE;

SET ROLE crm_sync;
COPY bookings FROM STDIN (FORMAT csv);
301,Juniper Labs,2025-06-30,"{0: 0.5, 90000: 0.5}"
302,Kestrel Air,2025-06-30,"{0: 0.6, 150000: 0.4}"
\.
RESET ROLE;

SET ROLE ana;
UPDATE bookings SET amount = '{0: 0.3, 150000: 0.7}' WHERE id = 302;
RESET ROLE;

SELECT * FROM monthly_bookings ORDER BY month;
SELECT now() AS jim_read \gset

SET ttpdb.as_of = :'bob_read';
SELECT * FROM monthly_bookings ORDER BY month;
SET ttpdb.as_of = :'jim_read';
SELECT * FROM monthly_bookings ORDER BY month;
RESET ttpdb.as_of;

SELECT entry - :base AS entry, role, kind, statement, rows
FROM ttpdb.log
WHERE committed_at > :'bob_read' AND committed_at <= :'jim_read'
  AND 'bookings'::regclass = ANY (tables)
ORDER BY entry;

SELECT coalesce(b.id, j.id) AS id, coalesce(b.customer, j.customer) AS customer,
       b.amount AS bob_read, j.amount AS jim_read
FROM ttpdb.as_of(NULL::bookings, :'bob_read') b
FULL JOIN ttpdb.as_of(NULL::bookings, :'jim_read') j USING (id)
WHERE b IS DISTINCT FROM j
ORDER BY 1;

SELECT b.id, b.customer, b.amount, l.entry - :base AS entry, l.role, l.statement
FROM bookings b JOIN ttpdb.log l ON l.entry = ttpdb.caused_by(b.xmin, b.cmin, b.xmax)
WHERE b.closed_on >= '2025-06-01' AND b.closed_on < '2025-07-01'
ORDER BY b.id;

SELECT entry AS bad_load FROM ttpdb.log
WHERE kind = 'COPY' AND committed_at > :'bob_read' AND 'bookings'::regclass = ANY (tables) \gset
SELECT id, customer FROM bookings WHERE ROW(xmin, cmin, xmax) <~ :bad_load;

SELECT copy_bytes, convert_from(ttpdb.log_copy_content(:bad_load), 'UTF8') AS content
FROM ttpdb.log WHERE entry = :bad_load;

SELECT (version).amount, created_entry - :base AS created_by, ended_entry - :base AS ended_by,
       tstzrange(valid_from, valid_to) @> :'bob_read'::timestamptz AS bob_saw_it,
       tstzrange(valid_from, valid_to) @> :'jim_read'::timestamptz AS jim_saw_it
FROM ttpdb.history(NULL::bookings) WHERE (version).id = 202 ORDER BY valid_from;

SELECT first_broken_entry, problem FROM ttpdb.verify();

SELECT * FROM ttpdb.undo(:bad_load);

SELECT * FROM ttpdb.undo(:bad_load, 'overwrite');

SELECT * FROM monthly_bookings ORDER BY month;
SELECT entry - :base AS entry, kind, undoes - :base AS undoes, rows
FROM ttpdb.log ORDER BY entry DESC LIMIT 1;

SET ttpdb.as_of = :'bob_read';
SELECT * FROM monthly_bookings ORDER BY month;
SET ttpdb.as_of = :'jim_read';
SELECT * FROM monthly_bookings ORDER BY month;

SELECT b.id, b.customer, ttpdb.caused_by(b.xmin, b.cmin, b.xmax) - :base AS entry
FROM bookings b
WHERE b.closed_on >= '2025-06-01' AND b.closed_on < '2025-07-01'
ORDER BY b.id;
RESET ttpdb.as_of;

SELECT entry - :base AS entry, kind, undoes - :base AS undoes,
       effects->'inserted' AS inserted, effects->'updated' AS updated,
       effects->'deleted' AS deleted
FROM ttpdb.log WHERE entry > :base ORDER BY entry;

DROP VIEW monthly_bookings;
DROP TABLE bookings;
REVOKE USAGE ON SCHEMA ttpdb FROM crm_sync, ana;
DROP ROLE crm_sync, ana;
