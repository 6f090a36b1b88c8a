// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The nftables backend's sync (nft_sync.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_int.h"
#include "nft_sync.h"
#include "nft_log.h"
#include "nft_rulechain.h"
#include "nft_table.h"

/* One table per instance, named after its state directory, so two
 * instances never touch each other's table. */
static uint32_t state_hash(const struct bh_ctx *ctx)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const char *p = ctx->state_dir; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

static void table_name(const struct bh_ctx *ctx, char out[32])
{
	snprintf(out, 32, "bulkhead_%08x", state_hash(ctx));
}

uint16_t bh_nft_sync_log_group(const struct bh_ctx *ctx)
{
	uint32_t h = state_hash(ctx);

	return (uint16_t)(BH_NFT_LOG_GROUP_BASE | ((h ^ h >> 16) & 0x7fff));
}

struct rulesets {
	int nr;
	struct bh_nft_ruleset *rs;	/* 2 per workload, then 2 for quarantine */
	struct bh_nft_workload *w;
};

static void rulesets_free(struct rulesets *r)
{
	for (int i = 0; r->rs && i < 2 * r->nr + 2; i++)
		bh_nft_ruleset_free(&r->rs[i]);
	free(r->rs);
	free(r->w);
}

static int translate(const struct bh_workload_info *w, int nr_w,
		     const struct bh_compile_output *out, struct rulesets *r)
{
	int err = 0;

	r->nr = nr_w;
	r->rs = calloc((size_t)(2 * nr_w + 2), sizeof(*r->rs));
	r->w = calloc(nr_w ? (size_t)nr_w : 1, sizeof(*r->w));
	if (!r->rs || !r->w)
		return -ENOMEM;
	for (int i = 0; !err && i < nr_w; i++) {
		struct bh_nft_workload *nw = &r->w[i];

		nw->ifname = w[i].ifname;
		nw->slot = w[i].slot;
		nw->quarantined = w[i].quarantined;
		nw->nr_ips = w[i].nr_ips;
		nw->ips = w[i].ips;
		for (int d = 0; !err && d < 2; d++) {
			err = bh_nft_ruleset_build(out, &out->workloads[i], (enum bh_dir)d,
						   w[i].mode, &r->rs[2 * i + d]);
			nw->rs[d] = &r->rs[2 * i + d];
		}
	}
	for (int d = 0; !err && d < 2; d++)
		err = bh_nft_ruleset_build_quarantine(out, (enum bh_dir)d, &r->rs[2 * nr_w + d]);
	return err;
}

int bh_nft_sync_build(struct bh_ctx *ctx, const struct bh_workload_info *w, int nr_w,
		      const struct bh_compile_output *out, struct bh_nft_batch **batch)
{
	struct rulesets r = { 0 };
	struct bh_nft_table t = { 0 };
	struct bh_nft_counter *seed = NULL;
	char name[32];
	int err;

	*batch = calloc(1, sizeof(**batch));
	if (!*batch)
		return bh_err(ctx, -ENOMEM, false, "out of memory");
	err = translate(w, nr_w, out, &r);
	if (err) {
		err = bh_err(ctx, err, false, "cannot translate the policies for nftables: %s",
			     strerror(-err));
		goto out;
	}
	table_name(ctx, name);
	/* the new table's counters start where the old one's are */
	err = bh_nft_counters_read(name, &seed, &t.nr_seed);
	if (err) {
		err = bh_err(ctx, err, false, "cannot read the counters of table inet %s: %s",
			     name, strerror(-err));
		goto out;
	}
	t.seed = seed;
	t.log_group = bh_nft_sync_log_group(ctx);
	t.name = name;
	t.nr = nr_w;
	t.w = r.w;
	t.quarantine[BH_DIR_INGRESS] = &r.rs[2 * nr_w + BH_DIR_INGRESS];
	t.quarantine[BH_DIR_EGRESS] = &r.rs[2 * nr_w + BH_DIR_EGRESS];
	err = bh_nft_build_table(&t, *batch);
	if (err)
		err = bh_err(ctx, err, false, "cannot build the nftables batch: %s",
			     strerror(-err));
out:
	rulesets_free(&r);
	free(seed);
	if (err) {
		free(*batch);
		*batch = NULL;
	}
	return err;
}

int bh_nft_sync_send(struct bh_ctx *ctx, const struct bh_nft_batch *batch)
{
	char name[32];
	int err = bh_nft_batch_send(batch);

	if (!err)
		return 0;
	table_name(ctx, name);
	return bh_err(ctx, err, false, "nftables refused table inet %s (nothing changed): %s",
		      name, strerror(-err));
}

void bh_nft_sync_free(struct bh_nft_batch *batch)
{
	if (!batch)
		return;
	bh_nft_batch_free(batch);
	free(batch);
}

int bh_nft_sync_rule_stats(struct bh_ctx *ctx,
			   int (*fn)(const struct bh_rule_stat *s, void *arg), void *arg)
{
	struct bh_nft_counter *c;
	char name[32];
	size_t nr;
	int err;

	table_name(ctx, name);
	err = bh_nft_counters_read(name, &c, &nr);
	if (err)
		return bh_err(ctx, err, false, "cannot read the counters of table inet %s: %s",
			      name, strerror(-err));
	/* sorted by rule id: sum each id's chains (both verdicts and
	 * directions), as the BPF data path counts a rule once per packet
	 * it decides on either veth */
	for (size_t i = 0; !err && i < nr;) {
		struct bh_rule_stat s = { .rule_id = c[i].rc.rule_id };

		if (!s.rule_id) {	/* boxes no rule decides: no rule's */
			i++;
			continue;
		}
		for (; i < nr && c[i].rc.rule_id == s.rule_id; i++) {
			s.stat.packets += c[i].packets;
			s.stat.bytes += c[i].bytes;
		}
		if (s.stat.packets)
			err = fn(&s, arg);
	}
	free(c);
	return err;
}

int bh_nft_sync_remove(struct bh_ctx *ctx)
{
	struct bh_nft_batch b = { 0 };
	char name[32];
	int err;

	table_name(ctx, name);
	err = bh_nft_build_delete(name, &b);
	if (!err)
		err = bh_nft_batch_send(&b);
	bh_nft_batch_free(&b);
	/* no table, or no nf_tables in this kernel (so no table either) */
	if (err == -ENOENT || err == -EPROTONOSUPPORT)
		return 0;
	return err ? bh_err(ctx, err, false, "cannot delete table inet %s: %s", name,
			    strerror(-err)) : 0;
}
