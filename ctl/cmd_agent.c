/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Agent-side commands (agent, flows, baseline, timeline, capture, map,
 * policy test). Filled in by the controller work (issue 3). */
#include "cli.h"

const struct bh_cli_cmd bh_agent_cmds[] = {
	{ 0 },
};
