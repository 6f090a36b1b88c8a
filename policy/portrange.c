// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Port ranges -> aligned power-of-two blocks, one LPM prefix each. */
#include "compile_int.h"

int bh_port_blocks(const struct bh_port *p, struct bh_pblock *out)
{
	__u32 lo, hi;
	int n = 0;

	if (!p || p->proto == 0) {
		out[0] = (struct bh_pblock){ .proto = 0, .plen = 40 };
		return 1;
	}
	if (!p->has_port) {
		out[0] = (struct bh_pblock){ .proto = p->proto, .plen = 48 };
		return 1;
	}
	lo = p->port;
	hi = p->end_port < p->port ? p->port : p->end_port;
	/* Greedy: the largest block aligned at lo that stays inside the
	 * range. A 16-bit range needs at most 2 * 16 - 2 blocks. */
	while (lo <= hi && n < BH_PBLOCKS_MAX) {
		int bits = 0;

		while (bits < 16 && (lo & ((1u << (bits + 1)) - 1)) == 0 &&
		       lo + (1u << (bits + 1)) - 1 <= hi)
			bits++;
		out[n++] = (struct bh_pblock){ .proto = p->proto, .plen = (__u8)(64 - bits),
					       .port = (__u16)lo };
		lo += 1u << bits;
	}
	return n;
}
