// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The delivery commands' table (cmd_deliver.h). */
#include "cmd_deliver.h"

const struct bh_cli_cmd bh_deliver_cmds[] = {
	{ NULL, "doctor", bh_cmd_doctor, "doctor [--json] [--cni-conf-dir DIR] [--cni-bin-dir DIR]" },
	{ "policy", "validate", bh_cmd_policy_validate, "policy validate -f FILE|-" },
	{ NULL, "webhook", bh_cmd_webhook, "webhook --listen ADDR --tls-cert FILE --tls-key FILE" },
	{ NULL, "upgrade", bh_cmd_upgrade, "upgrade" },
	{ 0 },
};
