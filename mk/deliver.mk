# Delivery targets, included by the top-level Makefile:
#
#   make install   the product only (binaries, systemd unit, docs, man pages
#                  and shell completion when the tree has them) under
#                  DESTDIR/PREFIX; builds nothing but the binaries and
#                  installs no Debian package the tests need
#   make deb       a .deb built with dpkg-deb (packaging/mkdeb.sh)
#
# Variables: PREFIX (/usr/local), DESTDIR, CNI_BIN_DIR (/opt/cni/bin),
# SYSTEMD_UNIT_DIR (PREFIX/lib/systemd/system), VERSION (file VERSION).

VERSION          ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
DOC_DIR          ?= $(PREFIX)/share/doc/bulkhead
MAN_DIR          ?= $(PREFIX)/share/man
BASH_COMP_DIR    ?= $(PREFIX)/share/bash-completion/completions

# Written by the CLI work; installed when present.
MAN_PAGES        := $(wildcard man/*.[1-8] docs/man/*.[1-8])
BASH_COMPLETION  := $(wildcard completion/bulkhead completion/bulkhead.bash \
                               contrib/completion/bulkhead.bash)
PRODUCT_DOCS     := README.md $(wildcard docs/*.md)

.PHONY: install deb
install: $(BINS)
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
	$(if $(MAN_PAGES),for m in $(MAN_PAGES); do s=$${m##*.}; \
	  install -d $(DESTDIR)$(MAN_DIR)/man$$s; \
	  install -m 0644 $$m $(DESTDIR)$(MAN_DIR)/man$$s/; done)
	$(if $(BASH_COMPLETION),install -d $(DESTDIR)$(BASH_COMP_DIR) && \
	  install -m 0644 $(firstword $(BASH_COMPLETION)) $(DESTDIR)$(BASH_COMP_DIR)/bulkhead)

deb: $(BINS)
	BUILD=$(BUILD) VERSION=$(VERSION) MAKE="$(MAKE)" ./packaging/mkdeb.sh

# make image: localhost/bulkhead:VERSION and :latest, FROM scratch, with
# podman, pulling nothing (packaging/mkimage.sh); prints the size.
.PHONY: image
image: $(BINS)
	BUILD=$(BUILD) VERSION=$(VERSION) ./packaging/mkimage.sh
