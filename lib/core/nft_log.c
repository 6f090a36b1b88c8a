// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The nftables backend's log prefixes (nft_log.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nft_log.h"

void bh_nft_log_prefix(const struct bh_nft_log_tag *t, char buf[BH_NFT_LOG_PREFIX_MAX])
{
	snprintf(buf, BH_NFT_LOG_PREFIX_MAX, "bh1 %c %u %u %u",
		 t->dir == BH_DIR_EGRESS ? 'e' : 'i', (unsigned)t->verdict, (unsigned)t->reason,
		 t->rule_id);
}

int bh_nft_log_parse(const char *prefix, size_t len, struct bh_nft_log_tag *t)
{
	char s[BH_NFT_LOG_PREFIX_MAX], d, tail;
	unsigned v, r, id;

	/* nfnetlink_log's prefix attribute carries its NUL; a short one
	 * may not */
	if (len >= sizeof(s))
		return -EINVAL;
	memcpy(s, prefix, len);
	s[len] = '\0';
	if (sscanf(s, "bh1 %c %u %u %u%c", &d, &v, &r, &id, &tail) != 4)
		return -EINVAL;
	if ((d != 'e' && d != 'i') || v >= BH_V_MAX || r >= BH_R_MAX)
		return -EINVAL;
	t->dir = d == 'e' ? BH_DIR_EGRESS : BH_DIR_INGRESS;
	t->verdict = (enum bh_verdict)v;
	t->reason = (enum bh_reason)r;
	t->rule_id = id;
	return 0;
}
