# hybridagg: PGXS build.  `make && make install`, then `make installcheck`
# against a running server that preloads hybridagg (see scripts/test.sh).

EXTENSION = hybridagg
EXTVERSION = 0.2.0

MODULE_big = hybridagg
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA = hybridagg--$(EXTVERSION).sql hybridagg--0.1.0.sql hybridagg--0.1.0--0.2.0.sql

# Every test file loads what it needs; test/regress.conf holds the settings
# of scripts/test.sh's cluster (installcheck against a running server
# ignores --temp-config: the tests pass with stock settings too)
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --outputdir=. --temp-config=test/regress.conf

ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --load-extension=hybridagg --temp-config=test/regress.conf

TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))
PROVE_FLAGS = -I ./test/perl

PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
            -Wno-missing-field-initializers
# Only the entry points PostgreSQL looks up (SQL functions, _PG_init, the
# background workers' main functions, all declared PGDLLEXPORT) are
# exported: no other symbol of hybridagg can clash with another library's.
# PostgreSQL 16 does this by itself; 15 defines PGDLLEXPORT empty on Linux.
PG_CFLAGS += -fvisibility=hidden
PG_CPPFLAGS = '-DPGDLLEXPORT=__attribute__((visibility("default")))'
# Warnings fail the build in the test command and CI (scripts/test.sh passes
# COPT=-Werror), not in a packager's build with another compiler.

# The JIT bitcode of this module is of no use: capture never runs through JIT.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: any header change rebuilds everything
$(OBJS): $(wildcard src/*.h)
