// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The benchmark's nftables peer: compile a policy file for a set of
 * workloads with bulkhead's own compiler, then install the first
 * workload's policy as the nftables backend's table would hold it
 * (lib/core/nft_table.h: one workload on IFNAME), or delete that table.
 *
 *   bench_nft install TABLE IFNAME POLICY_FILE WORKLOAD [WORKLOAD...]
 *   bench_nft show    TABLE IFNAME POLICY_FILE WORKLOAD [WORKLOAD...]
 *   bench_nft delete  TABLE
 * WORKLOAD is NS/NAME,IP[,K=V...]; every namespace gets its
 * kubernetes.io/metadata.name label.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead.h"
#include "nft_table.h"
#include "policy.h"

#define MAX_WL 16

struct wl {
	char ns[64], name[64];
	struct bh_ip ip;
	int nr_labels;
	struct bh_label labels[8];
};

static int parse_wl(const char *spec, struct wl *w)
{
	char buf[512], *save = NULL, *tok, *slash;

	snprintf(buf, sizeof(buf), "%s", spec);
	tok = strtok_r(buf, ",", &save);
	if (!tok || !(slash = strchr(tok, '/')))
		return -EINVAL;
	*slash = '\0';
	snprintf(w->ns, sizeof(w->ns), "%s", tok);
	snprintf(w->name, sizeof(w->name), "%s", slash + 1);
	tok = strtok_r(NULL, ",", &save);
	if (!tok || bh_ip_parse(tok, &w->ip))
		return -EINVAL;
	while ((tok = strtok_r(NULL, ",", &save)) && w->nr_labels < 8)
		if (bh_label_parse(tok, &w->labels[w->nr_labels++]))
			return -EINVAL;
	return 0;
}

/* rs[0..1]: the first workload's by direction, rs[2..3]: quarantine */
static int build(int argc, char **argv, struct bh_nft_ruleset *rs, struct bh_ip *ip)
{
	struct wl wls[MAX_WL] = { 0 };
	struct bh_compile_workload cw[MAX_WL] = { 0 };
	struct bh_compile_namespace cn[MAX_WL] = { 0 };
	struct bh_label nsl[MAX_WL];
	struct bh_policy_set set = { 0 };
	struct bh_policy_error perr = { 0 };
	struct bh_compile_input in = { 0 };
	struct bh_compile_output out = { 0 };
	int nr = argc - 3, nr_ns = 0, err;
	char msg[1024];

	if (nr < 1 || nr > MAX_WL)
		return -EINVAL;
	for (int i = 0; i < nr; i++) {
		if (parse_wl(argv[3 + i], &wls[i])) {
			fprintf(stderr, "bench_nft: bad workload '%s' (NS/NAME,IP[,K=V...])\n",
				argv[3 + i]);
			return -EINVAL;
		}
		cw[i] = (struct bh_compile_workload){
			.ns = wls[i].ns, .name = wls[i].name, .slot = (__u32)i,
			.identity = BH_ID_WORKLOAD_BASE + (__u32)i,
			.nr_labels = wls[i].nr_labels, .labels = wls[i].labels,
			.nr_ips = 1, .ips = &wls[i].ip,
		};
		int j;

		for (j = 0; j < nr_ns && strcmp(cn[j].name, wls[i].ns); j++)
			;
		if (j == nr_ns) {
			memset(&nsl[j], 0, sizeof(nsl[j]));
			strcpy(nsl[j].key, "kubernetes.io/metadata.name");
			memcpy(nsl[j].value, wls[i].ns, sizeof(wls[i].ns) < sizeof(nsl[j].value) ?
				sizeof(wls[i].ns) : sizeof(nsl[j].value) - 1);
			cn[j] = (struct bh_compile_namespace){ .name = wls[i].ns, .nr_labels = 1,
							       .labels = &nsl[j] };
			nr_ns++;
		}
	}
	err = bh_policy_parse_file(argv[2], &set, &perr);
	if (err) {
		fprintf(stderr, "bench_nft: %s\n", bh_policy_error_format(&perr, msg, sizeof(msg)));
		return err;
	}
	in.nr_workloads = nr;
	in.workloads = cw;
	in.nr_namespaces = nr_ns;
	in.namespaces = cn;
	in.nr_policies = set.nr;
	in.policies = set.items;
	err = bh_compile(&in, &out, &perr);
	if (err) {
		fprintf(stderr, "bench_nft: %s\n", bh_policy_error_format(&perr, msg, sizeof(msg)));
		bh_policy_set_free(&set);
		return err;
	}
	*ip = wls[0].ip;
	for (int d = 0; !err && d < 2; d++) {
		err = bh_nft_ruleset_build(&out, &out.workloads[0], (enum bh_dir)d,
					   BH_MODE_ENFORCE, &rs[d]);
		if (!err)
			err = bh_nft_ruleset_build_quarantine(&out, (enum bh_dir)d, &rs[2 + d]);
	}
	if (err)
		fprintf(stderr, "bench_nft: cannot build the ruleset: %s\n", strerror(-err));
	bh_compile_output_free(&out);
	bh_policy_set_free(&set);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_nft install|show TABLE IFNAME POLICY_FILE NS/NAME,IP[,K=V...]...\n"
			"       bench_nft delete TABLE\n");
}

int main(int argc, char **argv)
{
	struct bh_nft_batch b = { 0 };
	struct bh_nft_ruleset rs[4] = { 0 };
	struct bh_ip ip;
	int err;

	if (argc == 3 && !strcmp(argv[1], "delete")) {
		err = bh_nft_build_delete(argv[2], &b);
		if (!err)
			err = bh_nft_batch_send(&b);
		bh_nft_batch_free(&b);
		if (err)
			fprintf(stderr, "bench_nft: cannot delete table inet %s: %s\n", argv[2],
				strerror(-err));
		return err ? 2 : 0;
	}
	if (argc < 6 || (strcmp(argv[1], "install") && strcmp(argv[1], "show"))) {
		usage();
		return 1;
	}
	err = build(argc - 2, argv + 2, rs, &ip);
	if (err)
		return 1;
	struct bh_nft_workload w = { .ifname = argv[3], .nr_ips = 1, .ips = &ip,
				     .rs = { &rs[0], &rs[1] } };
	struct bh_nft_table t = { .name = argv[2], .nr = 1, .w = &w,
				  .quarantine = { &rs[2], &rs[3] } };

	err = bh_nft_build_table(&t, &b);
	if (!err && !strcmp(argv[1], "install"))
		err = bh_nft_batch_send(&b);
	if (err)
		fprintf(stderr, "bench_nft: cannot install table inet %s: %s\n", argv[2],
			strerror(-err));
	else
		printf("table inet %s: %zu map elements, default %s, %zu bytes of netlink\n",
		       argv[2], rs[BH_DIR_INGRESS].nr,
		       rs[BH_DIR_INGRESS].default_accept ? "accept" : "drop", b.len);
	for (int i = 0; i < 4; i++)
		bh_nft_ruleset_free(&rs[i]);
	bh_nft_batch_free(&b);
	return err ? 2 : 0;
}
