// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* How a detection decision explains itself: one sentence for the
 * timeline, syslog and JSON lines, and a short mark per counted flow for
 * `flows`. Pure formatting: the same text in every output. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "detect.h"

static const char *proto_name(int proto, char *buf, size_t len)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	default:
		snprintf(buf, len, "%d", proto);
		return buf;
	}
}

/* 2026-12-06T22:40:01.123Z */
static const char *time_str(int64_t wall_ms, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(wall_ms % 1000));
	return buf;
}

/* "tcp 10.0.0.2:41000 -> 10.0.0.9:22 (denied) at 2026-...Z" */
static void flow_str(const struct bh_detect_counted *c, int64_t wall_offset_ms, char *buf,
		     size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pb[8], why[48], ts[80];
	bool v6 = c->family == 6;

	bh_addr_format(c->src, src, sizeof(src));
	bh_addr_format(c->dst, dst, sizeof(dst));
	snprintf(buf, len, "%s %s%s%s:%u -> %s%s%s:%u %s (%s) at %s",
		 proto_name(c->proto, pb, sizeof(pb)), v6 ? "[" : "", src, v6 ? "]" : "",
		 c->sport, v6 ? "[" : "", dst, v6 ? "]" : "", c->dport,
		 bh_verdict_name((enum bh_verdict)c->verdict),
		 bh_detect_why_str(c->why, why, sizeof(why)),
		 time_str((int64_t)c->ts_ms + wall_offset_ms, ts, sizeof(ts)));
}

static const char *rule_says(const struct bh_detect_result *r, char *buf, size_t len)
{
	switch (r->rule) {
	case BH_DETECT_DENIED:
		snprintf(buf, len, "%u flows denied by policy within %us", r->threshold,
			 r->window_s);
		break;
	case BH_DETECT_SCAN_PORTS:
		snprintf(buf, len, "%u distinct destination ports within %us among flows"
			 " denied or outside the baseline", r->threshold, r->window_s);
		break;
	case BH_DETECT_SCAN_PEERS:
		snprintf(buf, len, "%u distinct destination addresses within %us among flows"
			 " denied or outside the baseline", r->threshold, r->window_s);
		break;
	default:
		snprintf(buf, len, "any flow towards a listed CIDR");
		break;
	}
	return buf;
}

static const char *outcome_says(const struct bh_detect_result *r)
{
	switch (r->outcome) {
	case BH_DETECT_QUARANTINE:
		return "action quarantine: quarantined (enforce mode)";
	case BH_DETECT_WOULD_QUARANTINE:
		if (r->dry_run)
			return "action quarantine: not quarantined (quarantine.dry_run)";
		return r->mode == BH_MODE_LEARN ?
			"action quarantine: not quarantined (learn mode)" :
			"action quarantine: not quarantined (monitor mode)";
	default:
		return "action alert: reported only";
	}
}

const char *bh_detect_explain(const struct bh_detect_result *r, int64_t wall_offset_ms,
			      char *buf, size_t len)
{
	char says[160], first[256], last[256];
	const struct bh_detect_counted *a, *z;
	int n;

	if (!r->nr_counted) {
		snprintf(buf, len, "%s; rule %s (%s), %s", r->reason, bh_detect_rule_key(r->rule),
			 rule_says(r, says, sizeof(says)), outcome_says(r));
		return buf;
	}
	a = &r->counted[0];
	z = &r->counted[r->nr_counted - 1];
	flow_str(a, wall_offset_ms, first, sizeof(first));
	flow_str(z, wall_offset_ms, last, sizeof(last));
	n = snprintf(buf, len, "%s; rule %s (%s), %s; %u flow%s counted over %.3fs"
		     " (%u denied by policy, %u outside the baseline%s)",
		     r->reason, bh_detect_rule_key(r->rule), rule_says(r, says, sizeof(says)),
		     outcome_says(r), r->nr_counted, r->nr_counted == 1 ? "" : "s",
		     (double)(z->ts_ms - a->ts_ms) / 1000.0, r->nr_denied, r->nr_baseline,
		     r->nr_listed ? ", towards a listed CIDR" : "");
	if (n < 0 || (size_t)n >= len)
		return buf;
	if (r->nr_counted == 1)
		snprintf(buf + n, len - (size_t)n, "; flow %s", last);
	else
		snprintf(buf + n, len - (size_t)n, "; first %s; last (crossed the threshold) %s",
			 first, last);
	return buf;
}

const char *bh_detect_mark(const struct bh_detect_result *r, const struct bh_detect_counted *c,
			   char *buf, size_t len)
{
	char why[48];

	snprintf(buf, len, "%s:%s", bh_detect_rule_name(r->rule),
		 bh_detect_why_str(c->why, why, sizeof(why)));
	return buf;
}
