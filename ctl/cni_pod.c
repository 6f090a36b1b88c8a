// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Pods closed at birth, the CNI side (cni_pod.h, lib/core/pod_lookup.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cni_conf.h"
#include "cni_pod.h"
#include "config.h"
#include "pod_lookup.h"

int cni_pod_identity(struct bh_ctx *ctx, struct bh_attach_opts *o, bool *known)
{
	struct bh_pod_identity *id = calloc(1, sizeof(*id));
	bool deny;
	int err;

	*known = false;
	if (!id)
		return bh_ctx_set_error(ctx, -ENOMEM, false, "out of memory");
	err = bh_pod_lookup(ctx, o->ns, o->name, id);
	if (!err) {
		*known = true;
		for (int i = 0; i < id->nr_labels; i++)
			if (cni_label_set(o->labels, &o->nr_labels, id->labels[i].key,
					  id->labels[i].value))
				break;	/* full: the agent's reconcile sets the rest */
		o->nr_ports = id->nr_ports;
		memcpy(o->ports, id->ports, sizeof(o->ports[0]) * (size_t)id->nr_ports);
		free(id);
		return 0;
	}
	free(id);
	/* unknown, no agent, or a garbled answer: the posture decides */
	err = bh_config_unknown_pod_deny(ctx, &deny);
	if (err)
		return err;
	o->pending = deny;
	return 0;
}
