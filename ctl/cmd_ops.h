/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* `bulkhead capture` and `bulkhead map` (ctl/cmd_ops.c), listed in
 * bh_agent_cmds (ctl/cmd_agent.c) with these usage lines. */
#ifndef BULKHEAD_CMD_OPS_H
#define BULKHEAD_CMD_OPS_H

#include "cli.h"

#define BH_CAPTURE_USAGE \
	"capture NS/NAME --out FILE.pcap [--seconds N] [--max-bytes M]"
#define BH_MAP_USAGE \
	"map [--namespace NS] [--format dot|svg] [--out FILE] [--since DURATION]"

int bh_cmd_capture(struct bh_cli *cli, int argc, char **argv);
int bh_cmd_map(struct bh_cli *cli, int argc, char **argv);
/* `bulkhead flows` (ctl/cmd_flows.c) */
int bh_cmd_flows(struct bh_cli *cli, int argc, char **argv);

#endif /* BULKHEAD_CMD_OPS_H */
