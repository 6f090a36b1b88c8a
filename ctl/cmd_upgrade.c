// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `bulkhead upgrade`: this build's programs replace the running ones on
 * every interface, hook by hook in one kernel call each, with every
 * pinned map carried over (lib/core/upgrade.h). Run it after installing a
 * new bulkhead; the old programs enforce until each switch.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "cmd_deliver.h"
#include "upgrade.h"

int bh_cmd_upgrade(struct bh_cli *cli, int argc, char **argv)
{
	struct bh_upgrade_result r;
	struct json_object *j;
	struct bh_ctx *ctx;
	int err, status;

	if (argc > 0 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
		printf("usage: bulkhead upgrade\n\nReplace the running programs with this build's on"
		       " every interface,\natomically per hook, keeping every pinned map. See"
		       " docs/operations.md.\n");
		return BH_EXIT_OK;
	}
	if (argc > 0)
		return bh_cli_fail(BH_EXIT_USER, "upgrade: unexpected argument '%s'", argv[0]);
	if ((status = bh_cli_open(cli, false, &ctx)))
		return status;
	err = bh_upgrade(ctx, &r);
	if (err) {
		status = bh_cli_ctx_fail(ctx, err, "upgrade");
		bh_ctx_close(ctx);
		return status;
	}
	bh_ctx_close(ctx);
	j = json_object_new_object();
	json_object_object_add(j, "interfaces", json_object_new_int(r.interfaces));
	json_object_object_add(j, "hooks", json_object_new_int(r.hooks));
	json_object_object_add(j, "services_sites", json_object_new_int(r.svc_sites));
	json_object_object_add(j, "old_tc_from_container", json_object_new_int64(r.old_ids[1]));
	json_object_object_add(j, "new_tc_from_container", json_object_new_int64(r.new_ids[1]));
	json_object_object_add(j, "old_maps", json_object_new_int(r.migrate.maps));
	json_object_object_add(j, "old_maps_carried", json_object_new_int(r.migrate.carried));
	json_object_object_add(j, "old_pins_removed", json_object_new_int(r.migrate.unpinned));
	json_object_object_add(j, "migrated", json_object_new_string(r.migrate.names));
	json_object_object_add(j, "ct_copied", json_object_new_int64((int64_t)r.migrate.ct_copied));
	json_object_object_add(j, "ct_merged", json_object_new_int64((int64_t)r.migrate.ct_merged));
	json_object_object_add(j, "ct_skipped", json_object_new_int64((int64_t)r.migrate.ct_skipped));
	json_object_object_add(j, "stats_rows_carried",
			       json_object_new_int64((int64_t)r.migrate.stats_carried));
	if (r.migrate.maps)
		return bh_cli_done(cli, j, "upgraded: %d hooks on %d interfaces switched to this"
				   " build's programs (tc %u->%u, %u->%u; xdp %u->%u); maps of older"
				   " layouts: %s; conntrack entries carried %llu (+%llu merged after"
				   " the switch, %llu not carried), stats rows %llu; %d old pins"
				   " removed", r.hooks, r.interfaces, r.old_ids[1], r.new_ids[1],
				   r.old_ids[2], r.new_ids[2], r.old_ids[0], r.new_ids[0],
				   r.migrate.names, (unsigned long long)r.migrate.ct_copied,
				   (unsigned long long)r.migrate.ct_merged,
				   (unsigned long long)r.migrate.ct_skipped,
				   (unsigned long long)r.migrate.stats_carried, r.migrate.unpinned);
	return bh_cli_done(cli, j, "upgraded: %d hooks on %d interfaces switched to this build's"
			   " programs (tc %u->%u, %u->%u; xdp %u->%u)", r.hooks, r.interfaces,
			   r.old_ids[1], r.new_ids[1], r.old_ids[2], r.new_ids[2], r.old_ids[0],
			   r.new_ids[0]);
}
