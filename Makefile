# omni: GNU make build of the daemon suite.
#
#   make            build every program in place
#   make check      unit and integration tests (as root)
#   make demo       a live mesh in network namespaces (as root)
#   make bench      benchmarks, numbers recorded in BENCHMARKS.md
#   make install    DESTDIR and PREFIX honoured

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/omni
MANDIR	?= $(PREFIX)/share/man
EXAMPLEDIR ?= $(PREFIX)/share/examples/omni
SYSCONFDIR ?= /etc
# systemd looks in /usr/lib/systemd/system and /usr/local/lib/systemd/system
UNITDIR	?= $(PREFIX)/lib/systemd/system

CC	?= cc
PKGS	 = libevent libsodium libmnl libcbor yaml-0.1 libseccomp libbsd-overlay
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	   -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
	   -D_GNU_SOURCE -Icommon $(PKG_CFLAGS) \
	   -DOMNI_LIBEXECDIR='"$(LIBEXECDIR)"'
LDLIBS	+= $(PKG_LIBS)

# SANITIZE=1: ASan and UBSan, a UBSan report is fatal like an ASan one.
ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
endif

PROGS	 =
TESTS	 =
all:

include common/Makefile.inc
include parent/Makefile.inc
include signald/Makefile.inc
include wgctld/Makefile.inc
include metricsd/Makefile.inc
include omnictl/Makefile.inc
include regress/Makefile.inc
include regress/fuzz/Makefile.inc

all: $(PROGS)

# Every object depends on .build-flags, which is rewritten only when the
# compiler or its flags differ from the last build's: make SANITIZE=1
# after make (or back) rebuilds everything instead of mixing objects.
# BUILD_FLAGS is expanded here, after every include, so that it never
# takes an object's target-specific CFLAGS.
BUILD_FLAGS := $(strip $(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS))
omni_differ = $(subst x$(1),,x$(2))$(subst x$(2),,x$(1))
.build-flags: FORCE
	$(if $(call omni_differ,$(BUILD_FLAGS),$(strip $(file <$@))),\
	    $(file >$@,$(BUILD_FLAGS)))
FORCE:

%.o: %.c .build-flags
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find . -name '*.d' 2>/dev/null)

deps:
	@sh regress/deps.sh

# deps first, then a fresh make: pkg-config flags are read at start-up,
# before deps could have installed the libraries.
demo: deps
	$(MAKE) all
	sh regress/demo.sh

check: deps
	$(MAKE) all tests
	sh regress/run.sh $(TESTS)

tests: $(TESTS)

# Benchmarks (as root): numbers, not pass/fail; see BENCHMARKS.md.
# BENCHES="nucleus edge dataplane" picks some.
bench: deps
	$(MAKE) all tests
	sh regress/bench/run.sh

# Every libFuzzer target, FUZZ_SECONDS each (clang).
FUZZ_SECONDS ?= 60
fuzz:
	sh regress/fuzz/run.sh $(FUZZ_SECONDS)

# The user and /var/lib/omni are made only on a real install (no
# DESTDIR); a package does that in its postinst instead.  uninstall
# leaves them: /var/lib/omni holds the identity keys.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(EXAMPLEDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 parent/omnid omnictl/omnictl $(DESTDIR)$(SBINDIR)/
	install -m 0755 signald/signald wgctld/wgctld metricsd/metricsd \
	    etc/omni-adduser.sh $(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 man/omni.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/omnid.8 man/omnictl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 etc/omni.conf $(DESTDIR)$(EXAMPLEDIR)/
	sed 's|^ExecStart=/usr/local/sbin/omnid|ExecStart=$(SBINDIR)/omnid|' \
	    etc/omnid.service > $(DESTDIR)$(UNITDIR)/omnid.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/omnid.service
	@if [ -z "$(DESTDIR)" ]; then sh etc/omni-adduser.sh; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/omnid $(DESTDIR)$(SBINDIR)/omnictl \
	    $(DESTDIR)$(LIBEXECDIR)/signald $(DESTDIR)$(LIBEXECDIR)/wgctld \
	    $(DESTDIR)$(LIBEXECDIR)/metricsd \
	    $(DESTDIR)$(LIBEXECDIR)/omni-adduser.sh \
	    $(DESTDIR)$(MANDIR)/man5/omni.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/omnid.8 $(DESTDIR)$(MANDIR)/man8/omnictl.8 \
	    $(DESTDIR)$(EXAMPLEDIR)/omni.conf \
	    $(DESTDIR)$(UNITDIR)/omnid.service
	-rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(EXAMPLEDIR) 2>/dev/null

lint-man:
	mandoc -Tlint -Wwarning man/*.5 man/*.8

clean:
	rm -f $(PROGS) $(TESTS) $(CLEANFILES) .build-flags
	find . -name '*.o' -delete -o -name '*.d' -delete -o -name '*.a' -delete


.PHONY: all tests fuzz bench deps demo check install uninstall clean lint-man \
	FORCE
