// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness for the policy parser and compiler: any bytes through
 * bh_policy_parse_buf, then bh_compile against a few workloads, with the
 * invariants of policy_check.h. Built by `make fuzz` with
 * -fsanitize=fuzzer,address,undefined; see README.md for how to run it.
 *
 * BH_FUZZ_KNOWN_OK=1 tolerates the two invariant breaks already reported
 * (README.md, "Known findings") so that a long run looks for new ones;
 * crashes and sanitizer reports are never tolerated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_check.h"

static int known(const char *why, const uint8_t *data, size_t size)
{
	size_t i;

	/* a NUL byte is reported without its line */
	if (!strncmp(why, "parse error has no line", 23) && strstr(why, "NUL character"))
		return 1;
	/* stored sources are cut by character count, not bytes */
	if (strstr(why, "stored source")) {
		for (i = 0; i < size; i++)
			if (data[i] >= 0x80)
				return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pf_stats st;
	static int tolerate = -1;
	const char *why;

	if (tolerate < 0)
		tolerate = getenv("BH_FUZZ_KNOWN_OK") != NULL;
	if (size > 256 * 1024)
		return 0;
	why = pf_check((const char *)data, size, &st);
	if (why && !(tolerate && known(why, data, size))) {
		fprintf(stderr, "bulkhead policy invariant broken: %s\n", why);
		abort();
	}
	return 0;
}
