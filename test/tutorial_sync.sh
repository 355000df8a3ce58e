#!/bin/bash
# test/tutorial_sync.sh: checks that the ```sql blocks of doc/tutorial.md are,
# in order, exactly what sql/tutorial.sql runs (the pg_regress test that checks
# the tutorial's output).  Blank lines and comment-only lines are ignored on
# both sides.  Exits 0 when in sync, 1 with a diff otherwise.
# Usage: bash test/tutorial_sync.sh [repository root]
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
doc=$root/doc/tutorial.md
sql=$root/sql/tutorial.sql

# Keep significant lines: drop blank lines, comment-only lines and trailing
# whitespace.
significant() {
	sed -e 's/[[:space:]]*$//' | grep -v -E '^[[:space:]]*(--.*)?$'
}

if [ ! -f "$doc" ] || [ ! -f "$sql" ]; then
	echo "tutorial ... FAILED (missing $doc or $sql)"
	exit 1
fi

# The lines between a line "```sql" and the next line "```".
blocks=$(awk '
	/^```sql[[:space:]]*$/ { inblock = 1; next }
	/^```/ && inblock      { inblock = 0; next }
	inblock                { print }
	END { if (inblock) { print "unterminated ```sql block" > "/dev/stderr"; exit 1 } }
' "$doc") || { echo "tutorial ... FAILED (unterminated sql block in $doc)"; exit 1; }

if [ -z "$blocks" ]; then
	echo "tutorial ... FAILED (no sql blocks in $doc)"
	exit 1
fi

if out=$(diff -u --label doc/tutorial.md --label sql/tutorial.sql \
		<(printf '%s\n' "$blocks" | significant) <(significant < "$sql")); then
	echo "tutorial ... ok"
	exit 0
fi
printf '%s\n' "$out"
echo "tutorial ... FAILED (the sql blocks of doc/tutorial.md and sql/tutorial.sql differ)"
exit 1
