// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The instance's settings through its context: the one reader of
 * STATE_DIR/config. The parsed file is kept in the context and read again
 * only when the file changed (a long-running agent sees an edit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "ctx_int.h"

struct bh_ctx_config {
	struct bh_config cfg;
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

void bh_ctx_config_drop(struct bh_ctx *ctx)
{
	if (!ctx->config)
		return;
	bh_config_free(&ctx->config->cfg);
	free(ctx->config);
	ctx->config = NULL;
}

static bool unchanged(const struct bh_ctx_config *c, const struct stat *st, bool present)
{
	if (c->present != present)
		return false;
	return !present || (c->dev == st->st_dev && c->ino == st->st_ino &&
			    c->size == st->st_size && c->mtime.tv_sec == st->st_mtim.tv_sec &&
			    c->mtime.tv_nsec == st->st_mtim.tv_nsec);
}

int bh_ctx_config(struct bh_ctx *ctx, const struct bh_config **out)
{
	char path[PATH_MAX + 16], msg[PATH_MAX + 400];
	struct bh_config_error e;
	struct bh_ctx_config *c;
	struct stat st;
	bool present;
	int err;

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, BH_CONFIG_FILE);
	present = stat(path, &st) == 0;
	if (ctx->config && unchanged(ctx->config, &st, present)) {
		*out = &ctx->config->cfg;
		return 0;
	}
	bh_ctx_config_drop(ctx);
	c = calloc(1, sizeof(*c));
	if (!c)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	err = bh_config_read(path, &c->cfg, &e);
	if (err) {
		free(c);
		return bh_err(ctx, err, err == -EINVAL, "%s",
			      bh_config_error_format(path, &e, msg, sizeof(msg)));
	}
	c->present = present;
	if (present) {
		c->dev = st.st_dev;
		c->ino = st.st_ino;
		c->size = st.st_size;
		c->mtime = st.st_mtim;
	}
	ctx->config = c;
	*out = &c->cfg;
	return 0;
}

/* The value of the one-valued key (NULL when the file does not set it;
 * the parser already checked it). */
static int setting(struct bh_ctx *ctx, const char *key, const char **value)
{
	const struct bh_config_entry *ent;
	const struct bh_config *cfg;
	int err = bh_ctx_config(ctx, &cfg);

	*value = NULL;
	if (err)
		return err;
	ent = bh_config_next(cfg, key, NULL);
	*value = ent ? ent->value : NULL;
	return 0;
}

int bh_config_default_hook(struct bh_ctx *ctx, enum bh_hook *hook)
{
	const char *env = getenv("BULKHEAD_HOOK"), *v;
	int err;

	*hook = BH_HOOK_TC;
	if (env && *env) {
		if (bh_hook_parse(env, hook))
			return bh_err(ctx, -EINVAL, true, "BULKHEAD_HOOK: expected tc or xdp, got"
				      " '%s'", env);
		return 0;
	}
	err = setting(ctx, "hook", &v);
	if (!err && v)
		bh_hook_parse(v, hook);
	return err;
}

int bh_config_flow_cache(struct bh_ctx *ctx, bool *on)
{
	const char *v;
	int err = setting(ctx, "flow_cache", &v);

	*on = !v || strcmp(v, "off") != 0;
	return err;
}

int bh_config_backend(struct bh_ctx *ctx, enum bh_backend *out)
{
	const char *v;
	int err = setting(ctx, "backend", &v);

	*out = v && !strcmp(v, "nftables") ? BH_BACKEND_NFTABLES : BH_BACKEND_BPF;
	return err;
}

int bh_config_unknown_pod_deny(struct bh_ctx *ctx, bool *deny)
{
	const char *v;
	int err = setting(ctx, "unknown_pod", &v);

	*deny = !v || strcmp(v, "allow") != 0;
	return err;
}

int bh_config_service_hook(struct bh_ctx *ctx, enum bh_svc_hook *out)
{
	const char *v;
	int err = setting(ctx, "service_hook", &v);

	*out = BH_SVC_HOOK_AUTO;
	if (v && !strcmp(v, "netfilter"))
		*out = BH_SVC_HOOK_NETFILTER;
	else if (v && !strcmp(v, "tc"))
		*out = BH_SVC_HOOK_TC;
	return err;
}

int bh_config_service_uplinks(struct bh_ctx *ctx, char (*names)[16], int max, int *nr)
{
	const struct bh_config_entry *ent = NULL;
	const struct bh_config *cfg;
	int err = bh_ctx_config(ctx, &cfg);

	*nr = 0;
	if (err)
		return err;
	while ((ent = bh_config_next(cfg, "service_uplink", ent))) {
		if (*nr == max)
			return bh_err(ctx, -E2BIG, true, "%s:%d: service_uplink: more than %d"
				      " interfaces", cfg->path, ent->line, max);
		snprintf(names[(*nr)++], 16, "%.15s", ent->value);	/* checked by the parser */
	}
	return 0;
}
