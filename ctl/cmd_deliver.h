/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Commands for running bulkhead on a node and in a cluster, one file each,
 * listed in bh_deliver_cmds (ctl/cmd_deliver.c):
 *   doctor            ctl/cmd_doctor.c    the kernel floor (lib/core/doctor.h)
 *   policy validate   ctl/cmd_validate.c  apply's parser, nothing changed
 *   webhook           ctl/cmd_webhook.c   the admission webhook (HTTPS)
 *   upgrade           ctl/cmd_upgrade.c   new programs on every veth, no gap
 */
#ifndef BULKHEAD_CMD_DELIVER_H
#define BULKHEAD_CMD_DELIVER_H

#include "cli.h"

int bh_cmd_doctor(struct bh_cli *cli, int argc, char **argv);
int bh_cmd_policy_validate(struct bh_cli *cli, int argc, char **argv);
int bh_cmd_webhook(struct bh_cli *cli, int argc, char **argv);
int bh_cmd_upgrade(struct bh_cli *cli, int argc, char **argv);

#endif /* BULKHEAD_CMD_DELIVER_H */
