# mediafcgi - one Makefile; objects in build/, pkg-config for every library.
#   make            build/mediafcgi
#   make check      deps, build, unit tests (cmocka), integration tests (pytest)
#   make run        deps, build, serve sample media on http://127.0.0.1:8080/
#   make bench      image, video-poster and live benchmarks side by side with
#                   ../shared/peers (BENCH=image|video|live for one)
#   make install    binary and man pages under DESTDIR, PREFIX (/usr/local)
#   make deb        the Debian package in build/deb/ (lintian-clean)
#   make package-test  make deb, install it, run it behind nginx, purge it
#   make SAN=1 ...  the same under ASan/UBSan (objects in build/san/)

VERSION  := 0.1.0
CC       ?= cc
PYTHON   ?= /usr/bin/python3
PKGS     := GraphicsMagick fcgi inih libcrypto libavdevice libavformat libavcodec libswscale libswresample libavutil lcms2 libwebpmux libwebp zlib libavif libjxl libpng16
TEST_PKGS := cmocka

# BUILD=DIR puts the objects elsewhere (several builds of one tree at once).
BUILD    ?= build
ifeq ($(SAN),1)
B        := $(BUILD)/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1 -g
else
B        := $(BUILD)
SANFLAGS :=
OPT      := -O2 -g
endif

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -DMF_VERSION='"$(VERSION)"'
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP \
            $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lm
LDFLAGS  += $(SANFLAGS)

# lib/ sees only lib/ (-Ilib): an include of a fcgi/ header there does not
# compile. fcgi/ and the tests see both. Headers are named from their
# root: "core/err.h", "route/router.h".
LIB_INC  := -Ilib
FCGI_INC := -Ilib -Ifcgi

LIB_SRC  := $(sort $(shell find lib -name '*.c'))
FCGI_SRC := $(filter-out fcgi/proc/main.c,$(sort $(shell find fcgi -name '*.c')))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
FCGI_OBJ := $(FCGI_SRC:%.c=$(B)/%.o)
LIB_A    := $(B)/libmediafcgi.a
# Unit tests mirror the tree: tests/unit/lib/img/test_img.c tests lib/img/.
UNIT_LIB_SRC  := $(sort $(shell find tests/unit/lib -name 'test_*.c'))
UNIT_FCGI_SRC := $(sort $(shell find tests/unit/fcgi -name 'test_*.c'))
UNIT_BIN := $(foreach t,$(UNIT_LIB_SRC) $(UNIT_FCGI_SRC),$(B)/tests/$(basename $(notdir $(t))))
# What the unit tests share (tests/unit/support.h), linked into each one.
UNIT_SUP := $(B)/tests/unit/support.o

.PHONY: all deps check unit integration run bench bench-program clean fuzz fuzz-build
all: $(B)/mediafcgi

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(LIB_INC) $(CFLAGS) -c -o $@ $<

$(B)/fcgi/%.o: fcgi/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FCGI_INC) $(CFLAGS) -c -o $@ $<

$(B)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FCGI_INC) -Itests/unit $(CFLAGS) -c -o $@ $<

# The media library: one static archive, linked by the daemon and tests.
$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/mediafcgi: $(B)/fcgi/proc/main.o $(FCGI_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test of lib/ links the archive alone; one of fcgi/ the fcgi/
# objects (not main) too. $(1): the test's source, $(2): what it links.
define unit_test
$(B)/tests/$(basename $(notdir $(1))): $(B)/$(1:.c=.o) $(UNIT_SUP) $(2)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $$(shell pkg-config --libs $$(TEST_PKGS))
endef
$(foreach t,$(UNIT_LIB_SRC),$(eval $(call unit_test,$(t),$(LIB_A))))
$(foreach t,$(UNIT_FCGI_SRC),$(eval $(call unit_test,$(t),$(FCGI_OBJ) $(LIB_A))))

# libFuzzer targets (clang): the query parser, the path resolver, and the
# image and video pipelines, each on lib/ built with coverage and ASan/UBSan.
FUZZ_B      := $(BUILD)/fuzz
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 30
FUZZ_CFLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer \
               -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB    := $(LIB_SRC:%.c=$(FUZZ_B)/%.o)
FUZZ_BINS   := $(addprefix $(FUZZ_B)/fuzz_,params path image video)

$(FUZZ_B)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(LIB_INC) $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(PKGS)) -c -o $@ $<

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(CPPFLAGS) $(LIB_INC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
$(FUZZ_B)/fuzz_image: tests/fuzz/fuzz_media.c $(FUZZ_LIB)
	$(FUZZ_CC) $(CPPFLAGS) $(LIB_INC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
$(FUZZ_B)/fuzz_video: tests/fuzz/fuzz_media.c $(FUZZ_LIB)
	$(FUZZ_CC) $(CPPFLAGS) $(LIB_INC) -DFUZZ_VIDEO $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(MAKE) fuzz-build
	scripts/fuzz.sh $(FUZZ_TIME)

deps:
	@scripts/deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: $(B)/mediafcgi
	MEDIAFCGI_BIN=$(abspath $(B)/mediafcgi) $(PYTHON) -m pytest -q tests/integration

# SAN=1: unit and integration tests under ASan/UBSan; the plain run also
# fuzzes each target for FUZZ_TIME seconds (the fuzzers carry ASan/UBSan)
# from a fresh corpus with a fixed seed, so a commit is fuzzed with the same
# inputs in the same order on every machine (a code change changes them); `make fuzz` explores with a new seed each run and
# keeps its corpus (every crash it finds goes into tests/fuzz/regress/).
check: deps
	$(MAKE) all unit
	$(MAKE) integration
ifneq ($(SAN),1)
	$(MAKE) fuzz-build
	FUZZ_SEED=1 FUZZ_FRESH=1 scripts/fuzz.sh $(FUZZ_TIME)
endif

run: deps
	$(MAKE) all
	scripts/run.sh

bench: deps
	$(MAKE) all $(B)/livefloor $(B)/viewers
	scripts/bench.sh

# The live benchmark's floor row: a one-process C fan-out, no web server.
$(B)/livefloor: bench/livefloor.c
	@mkdir -p $(B)
	$(CC) -O2 -Wall -Wextra -o $@ $<

# The live-at-scale benchmark's client: N viewers in one epoll loop.
$(B)/viewers: bench/viewers.c
	@mkdir -p $(B)
	$(CC) -O2 -Wall -Wextra -D_GNU_SOURCE -o $@ $<

# [program] routes: 1 GiB of a program's stdout through nginx, vs cat and
# a WSGI app under gunicorn.
bench-program: deps
	$(MAKE) all
	scripts/bench-program.sh

# make install: the binary and the manual pages, under DESTDIR and PREFIX
# (the Debian package installs with PREFIX=/usr; config and units are its).
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man

# make deb: dpkg-buildpackage -b on a copy of the tree in a temp dir (the
# package build never touches build/ or debian/ here), then lintian, which
# must find no error and no warning. The .deb (and its -dbgsym, .buildinfo,
# .changes) land in build/deb/; it is rebuilt only when a file it is made
# of changed. make package-test installs it, runs it behind nginx and
# purges it again (tests/package/run.sh).
.PHONY: install deb deb-build package-test
install: $(B)/mediafcgi
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/mediafcgi $(DESTDIR)$(SBINDIR)/mediafcgi
	install -m 0644 debian/man/mediafcgi.conf.5 $(DESTDIR)$(MANDIR)/man5/mediafcgi.conf.5
	install -m 0644 debian/man/mediafcgi.8 $(DESTDIR)$(MANDIR)/man8/mediafcgi.8

deb: deps
	$(MAKE) deb-build

package-test: deb
	tests/package/run.sh $(DEB)

# Only when asked for: dpkg-architecture and find run for these goals alone.
ifneq ($(filter deb-build package-test,$(MAKECMDGOALS)),)
DEB_DIR    := build/deb
DEB_ARCH   := $(shell dpkg-architecture -qDEB_HOST_ARCH)
DEB        := $(DEB_DIR)/mediafcgi_$(VERSION)_$(DEB_ARCH).deb
DEB_INPUTS := Makefile README.md $(shell find fcgi lib tests/unit debian examples -type f)

deb-build: $(DEB)

$(DEB): $(DEB_INPUTS)
	@v=$$(dpkg-parsechangelog -S Version); [ "$$v" = "$(VERSION)" ] || \
	    { echo "debian/changelog is at $$v, the Makefile at $(VERSION)" >&2; exit 1; }
	set -e; t=$$(mktemp -d /tmp/mediafcgi-deb.XXXXXX); trap 'rm -rf "$$t"' EXIT; \
	mkdir "$$t/mediafcgi-$(VERSION)"; \
	tar -c --exclude=./build --exclude=./.git --exclude=__pycache__ \
	    --exclude=.pytest_cache -f - . | tar -x -C "$$t/mediafcgi-$(VERSION)"; \
	(cd "$$t/mediafcgi-$(VERSION)" && dpkg-buildpackage -b -us -uc); \
	rm -rf $(DEB_DIR); mkdir -p $(DEB_DIR); \
	mv "$$t"/*.deb "$$t"/*.buildinfo "$$t"/*.changes $(DEB_DIR)/
	lintian --fail-on error,warning --display-info --display-experimental --pedantic \
	    $(DEB_DIR)/mediafcgi_$(VERSION)_$(DEB_ARCH).changes || { rm -f $@; exit 1; }
	@echo "built $@"
endif

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
