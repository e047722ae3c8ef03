# mediafcgi - one Makefile; objects in build/, pkg-config for every library.
#   make            build/mediafcgi
#   make check      deps, build, unit tests (cmocka), integration tests (pytest)
#   make run        deps, build, serve sample media on http://127.0.0.1:8080/
#   make bench      thumbnails timed side by side with ../shared/peers
#   make SAN=1 ...  the same under ASan/UBSan (objects in build/san/)

VERSION  := 0.1.0
CC       ?= cc
PYTHON   ?= /usr/bin/python3
PKGS     := GraphicsMagick fcgi inih libcrypto libavformat libavcodec libswscale libavutil lcms2 libwebpmux libwebp
TEST_PKGS := cmocka

ifeq ($(SAN),1)
B        := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1 -g
else
B        := build
SANFLAGS :=
OPT      := -O2 -g
endif

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -DMF_VERSION='"$(VERSION)"' -Ilib -Ifcgi
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP \
            $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lm
LDFLAGS  += $(SANFLAGS)

LIB_SRC  := $(wildcard lib/*.c)
FCGI_SRC := $(filter-out fcgi/main.c,$(wildcard fcgi/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
FCGI_OBJ := $(FCGI_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps check unit integration run bench clean
all: $(B)/mediafcgi

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/mediafcgi: $(B)/fcgi/main.o $(FCGI_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests link the objects of lib/ and fcgi/ (not main) with cmocka.
$(B)/tests/%: $(B)/tests/unit/%.o $(FCGI_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs $(TEST_PKGS))

deps:
	@scripts/deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: $(B)/mediafcgi
	MEDIAFCGI_BIN=$(abspath $(B)/mediafcgi) $(PYTHON) -m pytest -q tests/integration

check: deps
	$(MAKE) all unit
	$(MAKE) integration

run: deps
	$(MAKE) all
	scripts/run.sh

bench: deps
	$(MAKE) all
	scripts/bench.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
