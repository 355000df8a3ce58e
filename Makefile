# ttpdb: time-travel probabilistic database, a PostgreSQL 15 extension.
#
# Build and install:   make && make install
# Test (needs a server running with shared_preload_libraries = 'ttpdb'):
#                      make installcheck
# The whole thing on a fresh Debian 12 machine, server included:
#                      bash scripts/test.sh

EXTENSION = ttpdb
MODULE_big = ttpdb

# Extension scripts live in sql/ beside the regression tests: ttpdb--X.sql
# installs version X, ttpdb--X--Y.sql updates X to Y.
DATA = $(wildcard sql/ttpdb--*.sql)

OBJS = \
	src/ttpdb.o \
	src/pdist/pdist_parse.o \
	src/pdist/pdist_canon.o \
	src/pdist/pdist_math.o \
	src/pdist/pdist_arith.o \
	src/pdist/pdist_io.o \
	src/pdist/pdist_funcs.o \
	src/pdist/pdist_ops.o \
	src/pdist/pdist_agg.o \
	src/tam/tam_handler.o \
	src/tam/tam_history.o \
	src/tam/tam_pack.o \
	src/tam/tam_commit.o \
	src/tam/tam_stamp_cache.o \
	src/tam/tam_stamp_ceiling.o \
	src/tam/tam_asof.o \
	src/tam/tam_alter.o \
	src/tam/tam_twophase.o \
	src/tam/tam_funcs.o \
	src/log/log_capture.o \
	src/log/log_effects.o \
	src/log/log_nondet.o \
	src/log/log_copy.o \
	src/log/log_write.o \
	src/log/log_sha256.o \
	src/log/log_funcs.o \
	src/timeline/replay_exec.o \
	src/timeline/undo_ddl.o

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/pdist
SHLIB_LINK += -llz4

PG_CONFIG ?= pg_config

# With a server built with OpenSSL (--with-openssl, or --with-ssl=openssl
# since PostgreSQL 14), the log's hashes call it directly
# (src/log/log_sha256.c says why).
PG_CONFIGURE := $(shell $(PG_CONFIG) --configure)
ifneq (,$(findstring --with-openssl,$(PG_CONFIGURE))$(findstring --with-ssl=openssl,$(PG_CONFIGURE)))
SHLIB_LINK += -lcrypto
endif

# pg_regress: sql/<name>.sql against expected/<name>.out
REGRESS = create_extension conventions pdist_input pdist_functions \
	pdist_arithmetic pdist_aggregates pdist_index tam_time_travel tam_storage tam_pack tam_alter_type \
	log_statements undo timeline branches replay tam_twophase extension_update sketch_queries tutorial
REGRESS_OPTS = --load-extension=ttpdb

# Isolation specs: test/isolation/specs/<name>.spec, expected output in
# test/isolation/expected/<name>.out
ISOLATION = pdist_concurrent_update tam_commit_order tam_as_of_readers tam_serializable tam_alter_type \
	tam_pack_race log_commit_order log_concurrent_readers log_failed_writers undo_race \
	branch_publish tam_twophase tam_catalog_cache tam_stamp_ceiling
ISOLATION_OPTS = --inputdir=test/isolation

# TAP tests: test/t/NNN_<what>.pl, each starting its own servers
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: rebuild everything when a header changes.
$(OBJS): $(wildcard src/*.h src/*/*.h)
