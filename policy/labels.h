/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Names and labels: the part of the policy model the core's API shares
 * (workloads and namespaces carry labels; selectors match them).
 */
#ifndef BULKHEAD_LABELS_H
#define BULKHEAD_LABELS_H

#define BH_NAME_MAX		253
#define BH_MAX_LABELS		64

struct bh_label {
	char key[BH_NAME_MAX + 1];
	char value[64];
};

#endif /* BULKHEAD_LABELS_H */
