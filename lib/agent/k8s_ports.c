// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A pod's named ports, from spec.containers[].ports[] (name, containerPort,
 * protocol): what a rule's `port: NAME` means for that pod. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_int.h"
#include "policy.h"

static int cmp_port(const void *a, const void *b)
{
	const struct bh_named_port *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (int)x->proto - (int)y->proto;
}

int k8s_pod_ports(json_object *pod, struct bh_named_port *out, int max)
{
	json_object *spec, *containers;
	int n = 0;

	if (!json_object_object_get_ex(pod, "spec", &spec) ||
	    !json_object_object_get_ex(spec, "containers", &containers) ||
	    !json_object_is_type(containers, json_type_array))
		return 0;
	for (size_t c = 0; c < json_object_array_length(containers); c++) {
		json_object *ports, *ct = json_object_array_get_idx(containers, c);

		if (!json_object_object_get_ex(ct, "ports", &ports) ||
		    !json_object_is_type(ports, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			json_object *p = json_object_array_get_idx(ports, i), *v;
			struct bh_named_port np = { .proto = IPPROTO_TCP };
			const char *name;
			int64_t num;
			bool dup = false;

			/* unnamed ports serve no rule; the API's text is data: a
			 * bad entry is skipped, the pod's other ports still count */
			if (!json_object_object_get_ex(p, "name", &v) ||
			    !json_object_is_type(v, json_type_string))
				continue;
			name = json_object_get_string(v);
			if (strlen(name) > BH_PORT_NAME_MAX || !bh_port_name_ok(name))
				continue;
			snprintf(np.name, sizeof(np.name), "%s", name);
			if (!json_object_object_get_ex(p, "containerPort", &v) ||
			    !json_object_is_type(v, json_type_int))
				continue;
			num = json_object_get_int64(v);
			if (num < 1 || num > 65535)
				continue;
			np.port = (unsigned short)num;
			if (json_object_object_get_ex(p, "protocol", &v)) {
				const char *pr = json_object_get_string(v);

				if (!strcmp(pr, "UDP"))
					np.proto = IPPROTO_UDP;
				else if (!strcmp(pr, "SCTP"))
					np.proto = IPPROTO_SCTP;
				else if (strcmp(pr, "TCP"))
					continue;
			}
			for (int k = 0; k < n && !dup; k++)
				dup = !cmp_port(&out[k], &np);
			if (!dup && n < max)
				out[n++] = np;
		}
	}
	qsort(out, (size_t)n, sizeof(*out), cmp_port);
	return n;
}

char *k8s_ports_text(const struct bh_named_port *p, int nr)
{
	char *s = malloc((size_t)nr * 40 + 1), buf[40];
	size_t n = 0;

	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < nr; i++)
		n += (size_t)sprintf(s + n, "%s\n", bh_named_port_format(&p[i], buf, sizeof(buf)));
	return s;
}
