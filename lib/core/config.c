// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* $BULKHEAD_STATE_DIR/config: the KEY = VALUE parser (config.h). It knows
 * no context: lib/core/settings.c is the one caller that reads the file. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Every key bulkhead knows, and whether it may be given more than once. */
static const struct {
	const char *key;
	bool repeat;
} known_keys[] = {
	{ "hook", false },
	{ "forensics.cidr", false },
	{ "forensics.port", true },
	{ "flow_cache", false },
	{ "tc_attach", false },
	{ "backend", false },
	{ "unknown_pod", false },
	{ "service_hook", false },
	{ "service_uplink", true },
};
#define NR_KNOWN (sizeof(known_keys) / sizeof(known_keys[0]))

#define MAX_LINE 1024

static const char *const tc_attach_names[] = {
	[BH_TC_ATTACH_AUTO] = "auto",
	[BH_TC_ATTACH_TCX] = "tcx",
	[BH_TC_ATTACH_CLSACT] = "clsact",
};

int bh_tc_attach_parse(const char *s, enum bh_tc_attach *out)
{
	for (int i = 0; i <= BH_TC_ATTACH_CLSACT; i++)
		if (s && !strcmp(s, tc_attach_names[i])) {
			*out = (enum bh_tc_attach)i;
			return 0;
		}
	return -EINVAL;
}

const char *bh_tc_attach_name(enum bh_tc_attach m)
{
	return m <= BH_TC_ATTACH_CLSACT ? tc_attach_names[m] : "?";
}

static int set_err(struct bh_config_error *e, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int set_err(struct bh_config_error *e, int line, const char *key, const char *fmt, ...)
{
	va_list ap;

	e->line = line;
	snprintf(e->key, sizeof(e->key), "%s", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int find_key(const char *key)
{
	for (size_t i = 0; i < NR_KNOWN; i++)
		if (!strcmp(key, known_keys[i].key))
			return (int)i;
	return -1;
}

static int add_entry(struct bh_config *cfg, const char *key, const char *value, int line)
{
	struct bh_config_entry *n = realloc(cfg->entries, (cfg->nr + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	cfg->entries = n;
	n += cfg->nr++;
	snprintf(n->key, sizeof(n->key), "%s", key);
	snprintf(n->value, sizeof(n->value), "%s", value);
	n->line = line;
	return 0;
}

/* One non-blank, non-comment line: "KEY = VALUE [# comment]". */
static int parse_line(struct bh_config *cfg, char *s, int line, struct bh_config_error *e)
{
	const struct bh_config_entry *prev;
	char *eq = strchr(s, '='), *k, *v, *hash;
	enum bh_hook hook;
	int i;

	if (!eq)
		return set_err(e, line, NULL, "expected KEY = VALUE");
	*eq = '\0';
	k = trim(s);
	v = eq + 1;
	/* Values never hold '#': the rest of the line is a comment. */
	hash = strchr(v, '#');
	if (hash)
		*hash = '\0';
	v = trim(v);
	if (!*k)
		return set_err(e, line, NULL, "expected KEY = VALUE (no key)");
	i = find_key(k);
	if (i < 0)
		return set_err(e, line, k, "unknown key (known: hook, forensics.cidr,"
			       " forensics.port, flow_cache, tc_attach, backend, unknown_pod,"
			       " service_hook, service_uplink)");
	if (strlen(k) >= sizeof(cfg->entries->key) || strlen(v) >= sizeof(cfg->entries->value))
		return set_err(e, line, k, "value too long");
	if (!*v)
		return set_err(e, line, k, "missing value");
	if (!known_keys[i].repeat && (prev = bh_config_next(cfg, k, NULL)))
		return set_err(e, line, k, "given twice (first on line %d)", prev->line);
	if (!strcmp(k, "hook") && bh_hook_parse(v, &hook))
		return set_err(e, line, k, "expected tc or xdp, got '%s'", v);
	if (!strcmp(k, "flow_cache") && strcmp(v, "on") && strcmp(v, "off"))
		return set_err(e, line, k, "expected on or off, got '%s'", v);
	if (!strcmp(k, "tc_attach") && bh_tc_attach_parse(v, &(enum bh_tc_attach){ 0 }))
		return set_err(e, line, k, "expected auto, tcx or clsact, got '%s'", v);
	if (!strcmp(k, "backend") && strcmp(v, "bpf") && strcmp(v, "nftables"))
		return set_err(e, line, k, "expected bpf or nftables, got '%s'", v);
	if (!strcmp(k, "unknown_pod") && strcmp(v, "deny") && strcmp(v, "allow"))
		return set_err(e, line, k, "expected deny or allow, got '%s'", v);
	if (!strcmp(k, "service_hook") && strcmp(v, "auto") && strcmp(v, "netfilter") &&
	    strcmp(v, "tc"))
		return set_err(e, line, k, "expected auto, netfilter or tc, got '%s'", v);
	if (!strcmp(k, "service_uplink") && (strlen(v) >= IF_NAMESIZE || strpbrk(v, " \t/")))
		return set_err(e, line, k, "expected one interface name, got '%s'", v);
	return add_entry(cfg, k, v, line);
}

int bh_config_parse_buf(const char *name, const char *buf, size_t len, struct bh_config *cfg,
			struct bh_config_error *e)
{
	char line[MAX_LINE + 1];
	size_t off = 0;
	int lineno = 0, err = 0;

	memset(cfg, 0, sizeof(*cfg));
	memset(e, 0, sizeof(*e));
	snprintf(cfg->path, sizeof(cfg->path), "%s", name ? name : "(config)");
	while (!err && off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = (nl ? (size_t)(nl - buf) : len) - off;
		char *s;

		lineno++;
		if (n > MAX_LINE) {
			err = set_err(e, lineno, NULL, "line longer than %d bytes", MAX_LINE);
			break;
		}
		if (memchr(buf + off, '\0', n)) {
			err = set_err(e, lineno, NULL, "NUL byte in line");
			break;
		}
		memcpy(line, buf + off, n);
		line[n] = '\0';
		off += n + (nl ? 1 : 0);
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		err = parse_line(cfg, s, lineno, e);
	}
	if (err)
		bh_config_free(cfg);
	if (err == -ENOMEM)
		snprintf(e->msg, sizeof(e->msg), "out of memory");
	return err;
}

int bh_config_read(const char *path, struct bh_config *cfg, struct bh_config_error *e)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int err = 0;

	memset(cfg, 0, sizeof(*cfg));
	memset(e, 0, sizeof(*e));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		snprintf(e->msg, sizeof(e->msg), "cannot read: %s", strerror(-err));
		return err;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb;

			/* the file is a handful of lines; refuse a runaway one */
			if (cap >= (1u << 20)) {
				err = set_err(e, 0, NULL, "larger than 1 MiB");
				break;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				snprintf(e->msg, sizeof(e->msg), "out of memory");
				break;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				err = -EIO;
				snprintf(e->msg, sizeof(e->msg), "cannot read: %s", strerror(EIO));
			}
			break;
		}
	}
	fclose(f);
	if (!err)
		err = bh_config_parse_buf(path, buf, len, cfg, e);
	free(buf);
	return err;
}

void bh_config_free(struct bh_config *cfg)
{
	free(cfg->entries);
	cfg->entries = NULL;
	cfg->nr = 0;
}

const char *bh_config_error_format(const char *path, const struct bh_config_error *e, char *buf,
				   size_t len)
{
	char where[32] = "";

	if (e->line)
		snprintf(where, sizeof(where), ":%d", e->line);
	snprintf(buf, len, "%s%s: %s%s%s", path, where, e->key, e->key[0] ? ": " : "", e->msg);
	return buf;
}

const struct bh_config_entry *bh_config_next(const struct bh_config *cfg, const char *key,
					     const struct bh_config_entry *prev)
{
	int i = prev ? (int)(prev - cfg->entries) + 1 : 0;

	for (; i < cfg->nr; i++)
		if (!strcmp(cfg->entries[i].key, key))
			return &cfg->entries[i];
	return NULL;
}
