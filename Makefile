# bulkhead — top-level build.
#
#   make demo    install missing Debian packages, build, run the demo on real veths
#   make test    install missing Debian packages, build, run every test
#   make bench   benchmarks (figures, not assertions)
#   make install PREFIX=/usr/local DESTDIR= CNI_BIN_DIR=/opt/cni/bin
#   make deb / make image
#
# The house (docs/architecture.md): each room is an archive and sees only
# the include paths of the rooms below it, so an arrow the wrong way does
# not compile.
#   policy/     libbhpolicy.a  pure model, parsers, compiler   sees: ABI
#   lib/core/   libbulkhead.a  context, config, loader, store  sees: policy, ABI
#   lib/agent/  libbhagent.a   the controller                  sees: core, policy, ABI
#   ctl/        bulkhead (agent+core+policy), bulkhead-cni (core+policy)
# lib/ itself holds only bulkhead_abi.h (and lib/bpf/, the kernel side).
# Quoted includes name a bare file (`make layers` checks), so the -I list
# is the whole of what a room can reach.

PREFIX      ?= /usr/local
DESTDIR     ?=
CNI_BIN_DIR ?= /opt/cni/bin
BUILD       ?= build

ARCH_TRIPLET := $(shell gcc -dumpmachine)
CC          ?= gcc
CLANG       ?= clang
BPFTOOL     ?= bpftool

# pkg-config packages per room: what each binary links follows from them.
POLICY_PKGS := yaml-0.1
CORE_PKGS   := libbpf libxdp sqlite3 libmnl libnftnl $(POLICY_PKGS)
CNI_PKGS    := $(CORE_PKGS) json-c libmnl
AGENT_PKGS  := $(CNI_PKGS) libcurl libnftnl gnutls
CLI_PKGS    := $(AGENT_PKGS) libmicrohttpd
ALL_PKGS    := $(AGENT_PKGS)
pkg_cflags   = $(shell pkg-config --cflags $(1) 2>/dev/null)
pkg_libs     = $(shell pkg-config --libs $(1) 2>/dev/null)

CFLAGS      ?= -O2 -g
CFLAGS      += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -MMD -MP
LDLIBS      += -lelf -lz -lm

# Include paths, one set per room (lib/ holds only the ABI header).
ABI_INC     := -Ilib
POLICY_INC  := $(ABI_INC) -Ipolicy
CORE_INC    := $(POLICY_INC) -Ilib/core -I$(BUILD)
AGENT_INC   := $(POLICY_INC) -Ilib/core -Ilib/agent
CNI_INC     := $(POLICY_INC) -Ilib/core
CTL_INC     := $(AGENT_INC) -Ictl -I$(BUILD)/gen
BENCH_INC   := $(AGENT_INC) -I$(BUILD) -Itests/lib
TEST_INC    := -I. $(BENCH_INC) -Ictl

# bpf_tracing.h names the registers of the target architecture
BPF_ARCH    := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
BPF_CFLAGS  := -O2 -g -Wall -Werror -target bpf -D__bpf__ -D__TARGET_ARCH_$(BPF_ARCH) \
               -I/usr/include/$(ARCH_TRIPLET) -Ilib -Ilib/bpf

# Debian packages the build, the tests and the demo need, checked against
# a minimal Debian 12 (python3-yaml: tests/netns/test_contract.sh through
# /usr/bin/python3; sqlite3: the shell the agent tests query the store
# with; procps: pgrep). Installed when absent, so a fresh Debian 12
# machine needs nothing but `make demo`.
# docs/deploy/debian/control's Build-Depends lists the same (tests/e2e/test_deb.sh).
BUILD_DEB_PKGS := build-essential pkg-config clang llvm bpftool libbpf-dev libxdp-dev \
            libelf-dev zlib1g-dev libyaml-dev libsqlite3-dev libjson-c-dev \
            libmnl-dev libnftnl-dev libmicrohttpd-dev libcurl4-gnutls-dev \
            libgnutls28-dev
DEB_PKGS := $(BUILD_DEB_PKGS) \
            xdp-tools libcmocka-dev iproute2 ethtool \
            nftables iperf3 netsniff-ng netcat-openbsd socat tcpdump python3 python3-yaml \
            jq sqlite3 procps iputils-ping rsyslog graphviz podman runc \
            containernetworking-plugins busybox-static dpkg-dev curl openssl docker.io \
            containerd rsyslog-gnutls gnutls-bin bash-completion zsh groff-base bsdutils \
            python3-scapy

BPF_SRCS    := $(wildcard xdp/*.bpf.c tc/*.bpf.c)
BPF_OBJS    := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS       := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))

objs         = $(patsubst %.c,$(BUILD)/%.o,$(1))
POLICY_OBJS := $(call objs,$(wildcard policy/*.c))
CORE_OBJS   := $(call objs,$(wildcard lib/core/*.c))
AGENT_OBJS  := $(call objs,$(wildcard lib/agent/*.c))
CNI_OBJS    := $(call objs,ctl/bulkhead-cni.c $(wildcard ctl/cni_*.c))
CLI_OBJS    := $(filter-out $(CNI_OBJS),$(call objs,$(wildcard ctl/*.c)))

POLICY_LIB  := $(BUILD)/libbhpolicy.a
CORE_LIB    := $(BUILD)/libbulkhead.a
AGENT_LIB   := $(BUILD)/libbhagent.a
ALL_LIBS    := $(AGENT_LIB) $(CORE_LIB) $(POLICY_LIB)

BINS        := $(BUILD)/bulkhead $(BUILD)/bulkhead-cni
# Generated from the help table by the binary itself (ctl/completion.c).
GENERATED   := $(BUILD)/completion/bulkhead.bash $(BUILD)/completion/_bulkhead \
               $(BUILD)/man/bulkhead.8

UNIT_TESTS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
BPF_TESTS   := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(wildcard tests/bpf/test_*.c))
# Test tools: programs with their own main() that shell tests drive. They
# stay out of TEST_LIB, which is linked into every cmocka binary.
TEST_TOOL_SRCS := tests/lib/syslog_send.c tests/lib/capture_spawn.c
TEST_TOOLS  := $(patsubst %.c,$(BUILD)/%,$(TEST_TOOL_SRCS))
TEST_LIB    := $(call objs,$(filter-out $(TEST_TOOL_SRCS),$(wildcard tests/lib/*.c)))
BENCH_BINS  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

.PHONY: all deps layers demo test bench clean check-root
.DELETE_ON_ERROR:
.SECONDARY:

all: deps layers $(BINS) $(UNIT_TESTS) $(BPF_TESTS) $(BENCH_BINS)
all: $(TEST_TOOLS) $(GENERATED)

# ------------------------------------------------------------------ deps
# .deps: everything build, tests and demo need; .build-deps: what building
# the product needs (make install, make deb, make image install nothing else).
deps: $(BUILD)/.deps
$(BUILD)/.deps: PKG_LIST = $(DEB_PKGS)
$(BUILD)/.build-deps: PKG_LIST = $(BUILD_DEB_PKGS)
$(BUILD)/.deps: | $(BUILD)/.build-deps	# one apt-get at a time
# Checked again when the Makefile (and so the package lists) changes.
# apt may be busy when this runs: a fresh machine's daily apt job, another
# make in another clone. "apt-get update" does not wait for its lock (only
# install honours DPkg::Lock::Timeout), so a locked update is retried for as
# long; any other failure stops at once with apt's own message.
APT_LOCK_SECS := 600
APT_UPDATE = ok=; for i in $$(seq $$(($(APT_LOCK_SECS) / 10))); do \
	       out=$$(apt-get update -qq 2>&1) && { ok=1; break; }; \
	       case "$$out" in *"Could not get lock"*) ;; *) break;; esac; \
	       echo "apt is busy (another apt holds its lock); waiting" >&2; sleep 10; \
	     done; [ -n "$$ok" ] || { echo "$$out" >&2; false; }
$(BUILD)/.deps $(BUILD)/.build-deps: Makefile
	@missing=""; for p in $(PKG_LIST); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: run as root to install:$$missing" >&2; exit 2; fi; \
	  $(APT_UPDATE) && \
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_SECS) install -y -qq \
	    --no-install-recommends $$missing >/dev/null || exit 2; \
	fi
	@mkdir -p $(BUILD) && touch $@

# ------------------------------------------------------------------ BPF
$(BUILD)/%.bpf.o: xdp/%.bpf.c | $(BUILD)/.build-deps
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o
$(BUILD)/%.bpf.o: tc/%.bpf.c | $(BUILD)/.build-deps
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

# ------------------------------------------------------------- userspace
# One rule per room: the room's include paths and packages. Header
# dependencies come from the compiler (-MMD -MP, the .d files included at
# the end); the skeletons are order-only so the first build has them.
define room
$(BUILD)/$(1)/%.o: $(1)/%.c | $(BUILD)/.build-deps $(SKELS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $(2) $$(call pkg_cflags,$(3)) -c $$< -o $$@
endef
$(eval $(call room,policy,$(POLICY_INC),$(POLICY_PKGS)))
$(eval $(call room,lib/core,$(CORE_INC),$(CORE_PKGS)))
$(eval $(call room,lib/agent,$(AGENT_INC),$(AGENT_PKGS)))
$(eval $(call room,tests/lib,$(TEST_INC),$(ALL_PKGS)))
# ctl/: the CNI plugin's files see the core only, the CLI's everything.
$(CNI_OBJS): $(BUILD)/ctl/%.o: ctl/%.c | $(BUILD)/.build-deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CNI_INC) $(call pkg_cflags,$(CNI_PKGS)) -c $< -o $@
$(CLI_OBJS): $(BUILD)/ctl/%.o: ctl/%.c | $(BUILD)/.build-deps $(BUILD)/gen/version.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CTL_INC) $(call pkg_cflags,$(CLI_PKGS)) -c $< -o $@

# `bulkhead version`: git describe at build time. Rewritten only when it
# changes, so a rebuild without a new commit recompiles nothing.
BH_VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
LIBXDP_VER  := $(shell pkg-config --modversion libxdp 2>/dev/null || echo unknown)
$(BUILD)/gen/version.h: FORCE | $(BUILD)/.build-deps
	@mkdir -p $(@D)
	@printf '#define BH_VERSION "%s"\n#define BH_LIBXDP_VERSION "%s"\n' \
	  '$(BH_VERSION)' '$(LIBXDP_VER)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
.PHONY: FORCE
FORCE:

# Completion and man page, printed by the binary from its help table.
$(BUILD)/completion/bulkhead.bash: $(BUILD)/bulkhead
	@mkdir -p $(@D)
	$< completion bash >$@
$(BUILD)/completion/_bulkhead: $(BUILD)/bulkhead
	@mkdir -p $(@D)
	$< completion zsh >$@
$(BUILD)/man/bulkhead.8: $(BUILD)/bulkhead
	@mkdir -p $(@D)
	$< completion man >$@

# Rebuilt whole: `ar r` never drops a member whose source was removed.
$(POLICY_LIB): $(POLICY_OBJS)
	rm -f $@ && ar rcs $@ $^
$(CORE_LIB): $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^
$(AGENT_LIB): $(AGENT_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bulkhead: $(CLI_OBJS) $(AGENT_LIB) $(CORE_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(call pkg_libs,$(CLI_PKGS)) $(LDLIBS)
# bulkhead-cni runs on hosts that lack bulkhead's libraries: linked
# statically from Debian's static archives (glibc warns that dlopen, which
# SQLite's extension loading calls and bulkhead never does, would need the
# shared libc at run time). libmnl has no static archive in Debian:
# ctl/cni_veth.c speaks rtnetlink itself, and ctl/cni_nft_none.c stands
# in for the core's nftables backend (lib/core/nft_sync.h).
CNI_LDLIBS  := -static -lxdp -lbpf -lyaml -lsqlite3 -ljson-c -lelf -lz -lm
$(BUILD)/bulkhead-cni: $(CNI_OBJS) $(CORE_LIB) $(POLICY_LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(CNI_LDLIBS)

# Tests and benchmarks may use every room.
TEST_LINK = $(ALL_LIBS) $(call pkg_libs,$(ALL_PKGS)) $(LDLIBS)
$(BUILD)/tests/unit/%: tests/unit/%.c $(TEST_LIB) $(ALL_LIBS) | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_INC) $(call pkg_cflags,$(ALL_PKGS)) -o $@ $< $(TEST_LIB) $(TEST_LINK) -lcmocka
$(BUILD)/tests/bpf/%: tests/bpf/%.c $(TEST_LIB) $(ALL_LIBS) | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_INC) $(call pkg_cflags,$(ALL_PKGS)) -o $@ $< $(TEST_LIB) $(TEST_LINK) -lcmocka
$(TEST_TOOLS): $(BUILD)/tests/lib/%: tests/lib/%.c $(ALL_LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_INC) $(call pkg_cflags,$(ALL_PKGS)) -o $@ $< $(TEST_LINK)
# bench and tests share one packet builder (tests/lib/pkt.c).
$(BUILD)/bench/%: bench/%.c $(BUILD)/tests/lib/pkt.o $(ALL_LIBS) | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(BENCH_INC) $(call pkg_cflags,$(ALL_PKGS)) -o $@ $< $(BUILD)/tests/lib/pkt.o $(TEST_LINK)

# Quoted includes in the rooms name a bare file: a path ("../lib/core/x.h",
# "agent/x.h") would reach past the room's include paths.
LAYER_SRCS := $(wildcard policy/*.[ch] lib/core/*.[ch] lib/agent/*.[ch] ctl/*.[ch] \
                lib/bpf/*.h lib/bulkhead_abi.h xdp/*.c tc/*.c)
layers: $(BUILD)/.layers
$(BUILD)/.layers: $(LAYER_SRCS) | $(BUILD)/.build-deps
	@if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*/' $(LAYER_SRCS); then \
	  echo "error: a quoted include names a path; rooms include bare names (Makefile, docs/architecture.md)" >&2; \
	  exit 1; fi
	@touch $@

# ------------------------------------------------------------ front doors
check-root:
	@[ "$$(id -u)" = 0 ] || { echo "error: bulkhead needs root (BPF, netns, veth)" >&2; exit 2; }

demo: all check-root
	BUILD=$(BUILD) ./tests/demo.sh

test: all check-root
	BUILD=$(BUILD) ./tests/run.sh

bench: all check-root
	BUILD=$(BUILD) ./bench/run.sh

# ---------------------------------------------------------------- delivery
#
#   make install   the product only (binaries, systemd unit, docs, man pages
#                  and shell completion when the tree has them) under
#                  DESTDIR/PREFIX; builds nothing but the binaries and
#                  installs no Debian package the tests need
#   make deb       a .deb built with dpkg-deb (docs/deploy/mkdeb.sh)
#
# Variables: PREFIX (/usr/local), DESTDIR, CNI_BIN_DIR (/opt/cni/bin),
# SYSTEMD_UNIT_DIR (PREFIX/lib/systemd/system), VERSION (file ctl/VERSION).

VERSION          ?= $(shell cat ctl/VERSION 2>/dev/null || echo 0.0.0)
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
DOC_DIR          ?= $(PREFIX)/share/doc/bulkhead
MAN_DIR          ?= $(PREFIX)/share/man
BASH_COMP_DIR    ?= $(PREFIX)/share/bash-completion/completions

PRODUCT_DOCS     := README.md $(wildcard docs/*.md)

.PHONY: install deb print-build-deb-pkgs
install: $(BINS) $(GENERATED)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(CNI_BIN_DIR) \
	  $(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)$(DOC_DIR)
	install -m 0755 $(BUILD)/bulkhead $(DESTDIR)$(PREFIX)/sbin/bulkhead
	install -m 0755 $(BUILD)/bulkhead-cni $(DESTDIR)$(CNI_BIN_DIR)/bulkhead-cni
	# the unit names its binary and its Documentation= under PREFIX
	sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' \
	    -e 's|/usr/local/share/doc/bulkhead/|$(DOC_DIR)/|g' \
	    ctl/bulkhead-agent.service >$(DESTDIR)$(SYSTEMD_UNIT_DIR)/bulkhead-agent.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/bulkhead-agent.service
	install -m 0644 $(PRODUCT_DOCS) $(DESTDIR)$(DOC_DIR)/
	install -d $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions
	install -m 0644 $(BUILD)/man/bulkhead.8 docs/man/bulkhead-cni.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(BUILD)/completion/bulkhead.bash \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/bulkhead
	install -m 0644 $(BUILD)/completion/_bulkhead $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_bulkhead

deb: $(BINS)
	BUILD=$(BUILD) VERSION=$(VERSION) MAKE="$(MAKE)" ./docs/deploy/mkdeb.sh

# make image: localhost/bulkhead:VERSION and :latest, FROM scratch, with
# podman, pulling nothing (docs/deploy/mkimage.sh); prints the size.
.PHONY: image
image: $(BINS)
	BUILD=$(BUILD) VERSION=$(VERSION) ./docs/deploy/mkimage.sh

# the build's package list, for the tests that compare it with packaging
print-build-deb-pkgs:
	@echo $(BUILD_DEB_PKGS)

clean:
	rm -rf $(BUILD)

# ------------------------------------------------------------------ fuzz
# `make fuzz` (not part of `make test`): the policy fuzz test rebuilt with
# ASan+UBSan and run, and the libFuzzer harnesses tests/fuzz/fuzz_*.c
# built with clang. Running them longer: tests/fuzz/README.md.
FUZZ_DIR       := $(BUILD)/fuzz
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                  -fno-omit-frame-pointer
FUZZ_POL_SRCS  := $(wildcard policy/*.c)
FUZZ_HARNESSES := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_INC       := -I. $(POLICY_INC)

.PHONY: fuzz
fuzz: $(FUZZ_DIR)/test_fuzz_policy $(FUZZ_HARNESSES)
	$(FUZZ_DIR)/test_fuzz_policy
$(FUZZ_DIR)/test_fuzz_policy: tests/unit/test_fuzz_policy.c $(FUZZ_POL_SRCS) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(FUZZ_INC) $(FUZZ_SAN) -o $@ $< $(FUZZ_POL_SRCS) -lyaml -lcmocka
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_POL_SRCS) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) $(FUZZ_INC) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_POL_SRCS) -lyaml

# Header dependencies the compiler found (-MMD -MP).
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
