/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The instance's own settings: $BULKHEAD_STATE_DIR/config, `KEY = VALUE`
 * lines, `#` starts a comment line, blank lines are ignored. One reader
 * for every part of bulkhead that has a key there (docs/cli.md):
 *
 *   hook           = tc | xdp          default container-egress hook of attach
 *   forensics.cidr = 10.99.0.0/24      quarantine exception (policy/sync.c)
 *   forensics.port = tcp/22            repeatable
 *   flow_cache     = on | off          the data path's flow cache (on);
 *                                      read when the programs are loaded
 *   tc_attach      = auto | tcx | clsact
 *                                      how the TC programs attach (auto;
 *                                      tc_clsact.h)
 *   backend        = bpf | nftables    what enforces (bpf); nftables: the
 *                                      nftables backend (nft_sync.h)
 *   service_hook   = auto | netfilter | tc
 *                                      where Service flows are judged on
 *                                      the backend (auto; services.h)
 *   service_uplink = eth0              repeatable; the tc Services hook's
 *                                      uplinks (default-route devices)
 *
 * Unknown keys are errors, not silently ignored: a typo such as
 * `forensic.cidr` would otherwise switch the quarantine exception off
 * without a word. Values of `hook` are checked here; the forensics values
 * by their user (policy/sync.c), which knows CIDRs and ports. Errors name
 * "FILE:LINE: KEY: MSG". The agent's YAML config is another file
 * (lib/agent/agent_config.h).
 */
#ifndef BULKHEAD_CONFIG_H
#define BULKHEAD_CONFIG_H

#include <limits.h>
#include <stdbool.h>

#include "bulkhead.h"

#define BH_CONFIG_FILE	"config"	/* in the state dir */

struct bh_config_entry {
	char key[64];
	char value[256];
	int line;		/* 1-based */
};

struct bh_config {
	char path[PATH_MAX];
	int nr;
	struct bh_config_entry *entries;	/* file order */
};

struct bh_config_error {
	int line;		/* 0: not tied to a line */
	char key[64];		/* "" if none */
	char msg[256];
};

/* Parse a buffer; name is used in errors. -EINVAL with err filled on bad
 * input (a line without '=', an unknown key, a bad hook value, a line
 * too long), -ENOMEM. cfg is empty on failure. */
int bh_config_parse_buf(const char *name, const char *buf, size_t len, struct bh_config *cfg,
			struct bh_config_error *err);
/* Read a file: an absent file is an empty config (0). Other I/O errors:
 * negative errno, err->msg says what. */
int bh_config_read(const char *path, struct bh_config *cfg, struct bh_config_error *err);
void bh_config_free(struct bh_config *cfg);
/* "FILE:LINE: KEY: MSG" (line and key only when known). */
const char *bh_config_error_format(const char *path, const struct bh_config_error *e, char *buf,
				   size_t len);

/* The values of tc_attach (how tc_clsact.h attaches them). */
enum bh_tc_attach { BH_TC_ATTACH_AUTO, BH_TC_ATTACH_TCX, BH_TC_ATTACH_CLSACT };

/* "auto", "tcx", "clsact" -> mode; -EINVAL otherwise. */
int bh_tc_attach_parse(const char *s, enum bh_tc_attach *out);
const char *bh_tc_attach_name(enum bh_tc_attach m);

/* Entries of key in file order: pass NULL first, then the last result. */
const struct bh_config_entry *bh_config_next(const struct bh_config *cfg, const char *key,
					     const struct bh_config_entry *prev);

/* lib/core/settings.c, the one reader of STATE_DIR/config of ctx: the
 * parsed file, kept in ctx and read again when the file changed (owned by
 * ctx). Failures go to the ctx error (user error for bad content, system
 * error for I/O), message formatted as above. */
int bh_ctx_config(struct bh_ctx *ctx, const struct bh_config **cfg);

/* The hook an attach uses when none is given: $BULKHEAD_HOOK, else the
 * config's `hook`, else tc. A bad BULKHEAD_HOOK or config is a user error
 * (message in ctx). */
int bh_config_default_hook(struct bh_ctx *ctx, enum bh_hook *hook);

/* Whether the programs are loaded with the flow cache (lib/bpf/fcache.h):
 * the config's `flow_cache`, else on. Loaded programs keep what they were
 * loaded with until `bulkhead reset`. */
int bh_config_flow_cache(struct bh_ctx *ctx, bool *on);

/* The config's `backend`, else bpf. */
enum bh_backend { BH_BACKEND_BPF, BH_BACKEND_NFTABLES };
int bh_config_backend(struct bh_ctx *ctx, enum bh_backend *out);

/* `unknown_pod` (lib/core/pod_lookup.h): deny (default) or allow, the
 * posture of a pod the node's agent does not know at CNI ADD. */
int bh_config_unknown_pod_deny(struct bh_ctx *ctx, bool *deny);

/* `service_hook` (lib/core/services.h): where a flow to a Service
 * frontend is judged on its backend. AUTO (default): NETFILTER when the
 * kernel has BPF netfilter links (6.4+), else TC. */
enum bh_svc_hook { BH_SVC_HOOK_AUTO, BH_SVC_HOOK_NETFILTER, BH_SVC_HOOK_TC };
int bh_config_service_hook(struct bh_ctx *ctx, enum bh_svc_hook *out);

/* The `service_uplink` names (repeatable), at most max of IF_NAMESIZE
 * bytes each in names; *nr 0 when the file names none. */
int bh_config_service_uplinks(struct bh_ctx *ctx, char (*names)[16], int max, int *nr);

#endif /* BULKHEAD_CONFIG_H */
