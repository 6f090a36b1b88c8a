// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Services post-NAT hook on or off, for bench/bench_svc.sh (the agent
 * does this from the API in production):
 *   svc_hook on ADDR PORT tcp|udp    attach the hook (calling netns), set
 *                                    the one frontend
 *   svc_hook off                     no frontend and the hook detached
 *                                    (flows to the ClusterIP are judged on
 *                                    it, as before Services)
 * The instance is BULKHEAD_BPFFS / BULKHEAD_STATE_DIR; its config's
 * service_hook picks the netfilter or the tc form.
 */
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulkhead.h"
#include "services.h"

int main(int argc, char **argv)
{
	struct bh_ctx_opts o = { 0 };
	struct bh_svc_frontend fe = { 0 };
	struct bh_ctx *ctx = NULL;
	int err, changed, on = argc == 5 && !strcmp(argv[1], "on");

	if (!on && !(argc == 2 && !strcmp(argv[1], "off"))) {
		fprintf(stderr, "usage: svc_hook on ADDR PORT tcp|udp | svc_hook off\n");
		return 1;
	}
	err = bh_ctx_open(&o, &ctx);
	if (!err && on) {
		snprintf(fe.addr, sizeof(fe.addr), "%s", argv[2]);
		fe.port = (uint16_t)atoi(argv[3]);
		fe.proto = !strcmp(argv[4], "udp") ? IPPROTO_UDP : IPPROTO_TCP;
		err = bh_svc_hook_ensure(ctx);
	}
	if (!err)
		err = bh_svc_frontends_set(ctx, on, &fe, &changed);
	if (!err && !on) {
		/* the tc form (service_hook = tc): off every interface first */
		struct if_nameindex *ifs = if_nameindex();
		int n = 0;

		for (struct if_nameindex *i = ifs; !err && i && i->if_index; i++)
			err = bh_svc_tc_detach_dev(ctx, i->if_index, &n);
		if (ifs)
			if_freenameindex(ifs);
	}
	if (!err && !on) {
		/* unpinned, the links (or the tc program) go: nothing holds them */
		const char *bpffs = getenv("BULKHEAD_BPFFS");
		char path[4200];

		snprintf(path, sizeof(path), "%s/%s", bpffs ? bpffs : "/sys/fs/bpf/bulkhead",
			 BH_PIN_SVC_LINK4);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", bpffs ? bpffs : "/sys/fs/bpf/bulkhead",
			 BH_PIN_SVC_LINK6);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", bpffs ? bpffs : "/sys/fs/bpf/bulkhead",
			 BH_PIN_SVC_TC);
		unlink(path);
	}
	if (err)
		fprintf(stderr, "svc_hook: %s\n", ctx ? bh_ctx_error(ctx) : "cannot open the instance");
	bh_ctx_close(ctx);
	return err ? 2 : 0;
}
