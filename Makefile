# bulkhead — top-level build.
#
#   make demo    install missing Debian packages, build, run the demo on real veths
#   make test    install missing Debian packages, build, run every test
#   make bench   benchmarks (figures, not assertions)
#   make install PREFIX=/usr/local DESTDIR= CNI_BIN_DIR=/opt/cni/bin
#
# Layout: BPF programs in xdp/ and tc/ share lib/bpf/; userspace is
# lib/ (libbulkhead) <- policy/ (model, parsers, compiler) <- ctl/ (front ends).

PREFIX      ?= /usr/local
DESTDIR     ?=
CNI_BIN_DIR ?= /opt/cni/bin
BUILD       ?= build

ARCH_TRIPLET := $(shell gcc -dumpmachine)
CC          ?= gcc
CLANG       ?= clang
BPFTOOL     ?= bpftool

PKGS        := libbpf libxdp yaml-0.1 sqlite3 json-c libmnl libnftnl libpcap
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS      ?= -O2 -g
CFLAGS      += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
               -I. -Ilib -I$(BUILD) $(PKG_CFLAGS)
LDLIBS      += $(PKG_LIBS) -lelf -lz -lm
BPF_CFLAGS  := -O2 -g -Wall -Werror -target bpf -D__bpf__ \
               -I/usr/include/$(ARCH_TRIPLET) -Ilib -Ilib/bpf

# Debian packages the build, the tests and the demo need. Installed when
# absent, so a fresh Debian 12 machine needs nothing but `make demo`.
DEB_PKGS := build-essential pkg-config clang llvm bpftool libbpf-dev libxdp-dev \
            xdp-tools libelf-dev zlib1g-dev libyaml-dev libsqlite3-dev libjson-c-dev \
            libmnl-dev libnftnl-dev libpcap-dev libcmocka-dev iproute2 ethtool \
            nftables iperf3 netsniff-ng netcat-openbsd socat tcpdump python3 jq \
            iputils-ping rsyslog graphviz podman runc containernetworking-plugins busybox-static \
            python3-scapy

BPF_SRCS    := $(wildcard xdp/*.bpf.c tc/*.bpf.c)
BPF_OBJS    := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS       := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))
BPF_HDRS    := $(wildcard lib/bpf/*.h) lib/bulkhead_abi.h

LIB_SRCS    := $(wildcard lib/*.c)
LIB_OBJS    := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
POLICY_SRCS := $(wildcard policy/*.c)
POLICY_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(POLICY_SRCS))
USER_HDRS   := $(wildcard lib/*.h policy/*.h ctl/*.h)

CTL_COMMON  := $(filter-out ctl/bulkhead.c ctl/bulkhead-cni.c,$(wildcard ctl/*.c))
CTL_OBJS    := $(patsubst %.c,$(BUILD)/%.o,$(CTL_COMMON))

BINS        := $(BUILD)/bulkhead $(BUILD)/bulkhead-cni

UNIT_TESTS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
BPF_TESTS   := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(wildcard tests/bpf/test_*.c))
TEST_LIB    := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))
# Test tools: programs with their own main() that shell tests drive. They
# stay out of TEST_LIB, which is linked into every cmocka binary.
TEST_TOOL_SRCS := tests/lib/syslog_send.c
TEST_TOOLS  := $(patsubst %.c,$(BUILD)/%,$(TEST_TOOL_SRCS))
TEST_LIB    := $(filter-out $(patsubst %.c,$(BUILD)/%.o,$(TEST_TOOL_SRCS)),$(TEST_LIB))
BENCH_BINS  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

.PHONY: all deps demo test bench install clean check-root
.DELETE_ON_ERROR:
.SECONDARY:

all: deps $(BINS) $(UNIT_TESTS) $(BPF_TESTS) $(BENCH_BINS)
all: $(TEST_TOOLS)

# ------------------------------------------------------------------ deps
deps: $(BUILD)/.deps
$(BUILD)/.deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: run as root to install:$$missing" >&2; exit 2; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 2; \
	fi
	@mkdir -p $(BUILD) && touch $@

# ------------------------------------------------------------------ BPF
$(BUILD)/%.bpf.o: xdp/%.bpf.c $(BPF_HDRS) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o
$(BUILD)/%.bpf.o: tc/%.bpf.c $(BPF_HDRS) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

# ------------------------------------------------------------- userspace
$(BUILD)/%.o: %.c $(USER_HDRS) $(SKELS) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# Rebuilt whole: `ar r` never drops a member whose source was removed.
$(BUILD)/libbulkhead.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libbhpolicy.a: $(POLICY_OBJS)
	rm -f $@ && ar rcs $@ $^

USER_LIBS := $(BUILD)/libbhpolicy.a $(BUILD)/libbulkhead.a

$(BUILD)/bulkhead: $(BUILD)/ctl/bulkhead.o $(CTL_OBJS) $(USER_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bulkhead-cni: $(BUILD)/ctl/bulkhead-cni.o $(CTL_OBJS) $(USER_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/lib/*.h) $(TEST_LIB) $(USER_LIBS) $(USER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/lib -o $@ $< $(TEST_LIB) $(USER_LIBS) $(LDLIBS) -lcmocka
$(BUILD)/tests/bpf/%: tests/bpf/%.c $(wildcard tests/bpf/*.h tests/lib/*.h) $(TEST_LIB) $(USER_LIBS) $(USER_HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/lib -o $@ $< $(TEST_LIB) $(USER_LIBS) $(LDLIBS) -lcmocka
$(TEST_TOOLS): $(BUILD)/tests/lib/%: tests/lib/%.c $(USER_LIBS) $(USER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/lib -o $@ $< $(USER_LIBS) $(LDLIBS)
$(BUILD)/bench/%: bench/%.c $(USER_LIBS) $(USER_HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(USER_LIBS) $(LDLIBS)

# ------------------------------------------------------------ front doors
check-root:
	@[ "$$(id -u)" = 0 ] || { echo "error: bulkhead needs root (BPF, netns, veth)" >&2; exit 2; }

demo: all check-root
	BUILD=$(BUILD) ./tests/demo.sh

test: all check-root
	BUILD=$(BUILD) ./tests/run.sh

bench: all check-root
	BUILD=$(BUILD) ./bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(CNI_BIN_DIR)
	install -m 0755 $(BUILD)/bulkhead $(DESTDIR)$(PREFIX)/sbin/bulkhead
	install -m 0755 $(BUILD)/bulkhead-cni $(DESTDIR)$(CNI_BIN_DIR)/bulkhead-cni

clean:
	rm -rf $(BUILD)

# ------------------------------------------------------------------ fuzz
# `make fuzz` (not part of `make test`): the policy fuzz test rebuilt with
# ASan+UBSan and run, and the libFuzzer harnesses tests/fuzz/fuzz_*.c
# built with clang. Running them longer: tests/fuzz/README.md.
FUZZ_DIR       := $(BUILD)/fuzz
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                  -fno-omit-frame-pointer
FUZZ_POL_SRCS  := $(filter-out policy/apply.c policy/sync.c policy/nft.c,$(POLICY_SRCS))
FUZZ_HARNESSES := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/fuzz_*.c))

# the fuzz tests of `make test` share their model and checks with the harnesses
$(BUILD)/tests/bpf/test_fuzz_packets $(BUILD)/tests/unit/test_fuzz_policy: $(wildcard tests/fuzz/*.h)

.PHONY: fuzz
fuzz: $(FUZZ_DIR)/test_fuzz_policy $(FUZZ_HARNESSES)
	$(FUZZ_DIR)/test_fuzz_policy
$(FUZZ_DIR)/test_fuzz_policy: tests/unit/test_fuzz_policy.c $(wildcard tests/fuzz/*.h) \
		$(FUZZ_POL_SRCS) $(USER_HDRS) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(FUZZ_SAN) -o $@ $< $(FUZZ_POL_SRCS) -lyaml -lcmocka
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_POL_SRCS) \
		$(USER_HDRS) $(BPF_HDRS) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_POL_SRCS) -lyaml
