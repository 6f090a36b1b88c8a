// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Prometheus metrics registry and its text rendering (exposition format
 * 0.0.4). See metrics.h for the contract. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "strbuf.h"

/* Label values escape \, " and newline; help text escapes \ and newline
 * (format 0.0.4). Any other byte goes through as is: the format is UTF-8
 * and a stray byte cannot end a line or a value. */
static void sb_escape(struct bh_sbuf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			bh_sb_puts(b, "\\\\");
		else if (*s == '\n')
			bh_sb_puts(b, "\\n");
		else if (*s == '"' && quote)
			bh_sb_puts(b, "\\\"");
		else
			bh_sb_putc(b, *s);
	}
}

/* Shortest text that reads back as the same double; integers without an
 * exponent up to 2^53, the special values as Prometheus spells them. */
static void sb_value(struct bh_sbuf *b, double v)
{
	char tmp[40];

	if (isnan(v)) {
		bh_sb_puts(b, "NaN");
		return;
	}
	if (isinf(v)) {
		bh_sb_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(tmp, sizeof(tmp), "%.0f", v);
	} else {
		snprintf(tmp, sizeof(tmp), "%.15g", v);
		if (strtod(tmp, NULL) != v)
			snprintf(tmp, sizeof(tmp), "%.17g", v);
	}
	bh_sb_puts(b, tmp);
}

/* ----------------------------------------------------------- registry */
struct sample {
	char *labels;		/* rendered "{a=\"b\"}" or "" */
	double value;
};

struct family {
	char *name;
	char *help;
	enum bh_metric_type type;
	struct sample *samples;
	size_t nr, cap;
};

struct bh_metrics {
	struct family *fams;
	size_t nr, cap;
	size_t samples;
};

int bh_metrics_new(struct bh_metrics **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void bh_metrics_begin(struct bh_metrics *m)
{
	size_t i, j;

	for (i = 0; i < m->nr; i++) {
		for (j = 0; j < m->fams[i].nr; j++)
			free(m->fams[i].samples[j].labels);
		free(m->fams[i].samples);
		free(m->fams[i].name);
		free(m->fams[i].help);
	}
	m->nr = 0;
	m->samples = 0;
}

void bh_metrics_free(struct bh_metrics *m)
{
	if (!m)
		return;
	bh_metrics_begin(m);
	free(m->fams);
	free(m);
}

size_t bh_metrics_count(const struct bh_metrics *m)
{
	return m->samples;
}

static bool name_ok(const char *s, bool colon)
{
	const char *p;

	if (!s || !*s)
		return false;
	for (p = s; *p; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     *p == '_' || (colon && *p == ':');
		bool digit = *p >= '0' && *p <= '9';

		if (!alpha && !(digit && p != s))
			return false;
	}
	return true;
}

static const char *type_name(enum bh_metric_type t)
{
	switch (t) {
	case BH_METRIC_COUNTER: return "counter";
	case BH_METRIC_GAUGE: return "gauge";
	default: return "untyped";
	}
}

static struct family *family_get(struct bh_metrics *m, const char *name,
				 enum bh_metric_type type, const char *help, int *err)
{
	struct family *f;
	size_t i;

	/* Linear from the end: collectors add one family's samples in a row. */
	for (i = m->nr; i-- > 0;) {
		f = &m->fams[i];
		if (strcmp(f->name, name))
			continue;
		if (f->type != type) {
			*err = -EINVAL;
			return NULL;
		}
		if (!f->help && help && !(f->help = strdup(help))) {
			*err = -ENOMEM;
			return NULL;
		}
		return f;
	}
	if (m->nr == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct family *n = realloc(m->fams, cap * sizeof(*n));

		if (!n)
			goto nomem;
		m->fams = n;
		m->cap = cap;
	}
	f = &m->fams[m->nr];
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->name = strdup(name);
	f->help = help ? strdup(help) : NULL;
	if (!f->name || (help && !f->help)) {
		free(f->name);
		free(f->help);
		goto nomem;
	}
	m->nr++;
	return f;
nomem:
	*err = -ENOMEM;
	return NULL;
}

int bh_metrics_add(struct bh_metrics *m, const char *name, enum bh_metric_type type,
		   const char *help, const struct bh_metric_label *labels, int nr_labels,
		   double value)
{
	struct bh_sbuf lb = { 0 };
	struct family *f;
	int i, err = 0;

	if (!name_ok(name, true) || nr_labels < 0 || (nr_labels && !labels) ||
	    (unsigned)type > BH_METRIC_UNTYPED)
		return -EINVAL;
	for (i = 0; i < nr_labels; i++) {
		if (!name_ok(labels[i].name, false) || !strncmp(labels[i].name, "__", 2) ||
		    !labels[i].value)
			return -EINVAL;
		bh_sb_putc(&lb, i ? ',' : '{');
		bh_sb_puts(&lb, labels[i].name);
		bh_sb_puts(&lb, "=\"");
		sb_escape(&lb, labels[i].value, true);
		bh_sb_putc(&lb, '"');
	}
	if (nr_labels)
		bh_sb_putc(&lb, '}');
	else
		bh_sb_puts(&lb, "");
	if (lb.err)
		goto out;

	f = family_get(m, name, type, help, &err);
	if (!f)
		goto out;
	if (f->nr == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct sample *n = realloc(f->samples, cap * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
			goto out;
		}
		f->samples = n;
		f->cap = cap;
	}
	f->samples[f->nr].labels = lb.p;
	f->samples[f->nr].value = value;
	f->nr++;
	m->samples++;
	return 0;
out:
	free(lb.p);
	return err ? err : lb.err;
}

int bh_metrics_render(const struct bh_metrics *m, char **buf, size_t *len)
{
	struct bh_sbuf b = { 0 };
	size_t i, j;

	bh_sb_reserve(&b, 4096);
	bh_sb_puts(&b, "");
	for (i = 0; i < m->nr; i++) {
		const struct family *f = &m->fams[i];

		if (f->help) {
			bh_sb_puts(&b, "# HELP ");
			bh_sb_puts(&b, f->name);
			bh_sb_putc(&b, ' ');
			sb_escape(&b, f->help, false);
			bh_sb_putc(&b, '\n');
		}
		bh_sb_puts(&b, "# TYPE ");
		bh_sb_puts(&b, f->name);
		bh_sb_putc(&b, ' ');
		bh_sb_puts(&b, type_name(f->type));
		bh_sb_putc(&b, '\n');
		for (j = 0; j < f->nr; j++) {
			bh_sb_puts(&b, f->name);
			bh_sb_puts(&b, f->samples[j].labels);
			bh_sb_putc(&b, ' ');
			sb_value(&b, f->samples[j].value);
			bh_sb_putc(&b, '\n');
		}
	}
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}
