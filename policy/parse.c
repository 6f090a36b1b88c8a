// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Entry points: a file or buffer of YAML documents -> a policy set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse_common.h"

#define BH_POLICY_FILE_MAX	(64u << 20)	/* refuse larger inputs */

static int parse_doc(const char *name, const struct yd_doc *d, struct bh_policy *p,
		     struct bh_policy_error *err)
{
	struct pc_ctx c = { .file = name, .err = err };
	const struct yd_node *av, *kind, *root = d->root;
	int ret;

	if (root->type != YD_MAP)
		return pc_fail(&c, root, "a policy document must be a mapping");
	av = yd_map_get(root, "apiVersion");
	kind = yd_map_get(root, "kind");
	if (!av)
		return pc_fail_at(&c, root, "apiVersion", "required field missing");
	if (!kind)
		return pc_fail_at(&c, root, "kind", "required field missing");
	if (av->type != YD_SCALAR || kind->type != YD_SCALAR)
		return pc_fail_at(&c, av->type != YD_SCALAR ? av : kind,
				  av->type != YD_SCALAR ? "apiVersion" : "kind",
				  "must be a string");

	if (!strcmp(av->str, "networking.k8s.io/v1")) {
		if (strcmp(kind->str, "NetworkPolicy"))
			return pc_fail_at(&c, kind, "kind", "unsupported kind \"%s\" for %s "
					  "(expected NetworkPolicy)", kind->str, av->str);
		ret = bh_parse_k8s(&c, root, p);
	} else if (!strcmp(av->str, "bulkhead.io/v1")) {
		c.native = true;
		/* BulkheadPolicy: the custom resource's kind (docs/deploy/
		 * crd.yaml); its spec is a Policy's, with the same meaning. */
		if (!strcmp(kind->str, "Policy") || !strcmp(kind->str, "BulkheadPolicy"))
			ret = bh_parse_native(&c, root, false, p);
		else if (!strcmp(kind->str, "ClusterPolicy"))
			ret = bh_parse_native(&c, root, true, p);
		else
			return pc_fail_at(&c, kind, "kind", "unsupported kind \"%s\" for %s "
					  "(expected Policy or ClusterPolicy, or the custom resource"
					  " BulkheadPolicy)", kind->str, av->str);
	} else {
		return pc_fail_at(&c, av, "apiVersion", "unsupported apiVersion \"%s\" "
				  "(expected networking.k8s.io/v1 or bulkhead.io/v1)", av->str);
	}
	if (ret)
		return ret;
	p->source = strdup(d->source);
	if (!p->source)
		return -ENOMEM;
	snprintf(p->file, sizeof(p->file), "%s", name);
	p->line = d->line;
	return 0;
}

int bh_policy_parse_buf(const char *name, const char *buf, size_t len,
			struct bh_policy_set *out, struct bh_policy_error *err)
{
	struct yd_stream s;
	struct bh_policy_set set = { 0 };
	int ret, i, j;

	memset(out, 0, sizeof(*out));
	if (!name)
		name = "<input>";
	ret = yd_load(name, buf, len, &s, err);
	if (ret)
		return ret;
	if (s.nr) {
		set.items = calloc((size_t)s.nr, sizeof(*set.items));
		if (!set.items) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < s.nr; i++) {
		struct bh_policy *p = &set.items[i];

		set.nr = i + 1;
		ret = parse_doc(name, &s.docs[i], p, err);
		if (ret)
			goto out;
		/* One file must not name a policy twice: the second would
		 * silently replace the first when applied. */
		for (j = 0; j < i; j++) {
			const struct bh_policy *q = &set.items[j];

			if (!strcmp(q->ns, p->ns) && !strcmp(q->name, p->name)) {
				ret = bh_perr(err, name, s.docs[i].line, 1, "metadata.name",
					      "policy %s%s%s is defined twice in this file "
					      "(first at line %d)", p->ns, p->ns[0] ? "/" : "",
					      p->name, q->line);
				goto out;
			}
		}
	}
	*out = set;
	set.items = NULL;
	set.nr = 0;
out:
	if (ret == -ENOMEM)
		bh_perr(err, name, 0, 0, "", "out of memory");
	bh_policy_set_free(&set);
	yd_stream_free(&s);
	return ret;
}

int bh_policy_parse_file(const char *path, struct bh_policy_set *out,
			 struct bh_policy_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	memset(out, 0, sizeof(*out));
	/* "-" is stdin (`policy apply -f -`); messages name it <stdin> */
	if (!strcmp(path, "-")) {
		int fd = dup(STDIN_FILENO);

		path = "<stdin>";
		f = fd < 0 ? NULL : fdopen(fd, "r");
		if (!f && fd >= 0)
			close(fd);
	} else {
		f = fopen(path, "re");
	}
	if (!f) {
		ret = -errno;
		bh_perr(err, path, 0, 0, "", "cannot open: %s", strerror(-ret));
		return ret;
	}
	if (fstat(fileno(f), &st)) {
		ret = -errno;
		goto io_fail;
	}
	if (st.st_size > (off_t)BH_POLICY_FILE_MAX) {
		fclose(f);
		return bh_perr(err, path, 0, 0, "", "file too large (at most %u MiB)",
			       BH_POLICY_FILE_MAX >> 20);
	}
	/* Read to EOF rather than trusting st_size: pipes and /dev/stdin
	 * report 0. */
	for (;;) {
		size_t cap = len + 65536, want = 65536, n;
		char *nb;

		if (cap > BH_POLICY_FILE_MAX + 65536u) {
			free(buf);
			fclose(f);
			return bh_perr(err, path, 0, 0, "", "file too large (at most %u MiB)",
				       BH_POLICY_FILE_MAX >> 20);
		}
		nb = realloc(buf, cap);
		if (!nb) {
			ret = -ENOMEM;
			goto io_fail;
		}
		buf = nb;
		n = fread(buf + len, 1, want, f);
		len += n;
		if (n < want) {
			if (ferror(f)) {
				ret = -EIO;
				goto io_fail;
			}
			break;
		}
	}
	fclose(f);
	ret = bh_policy_parse_buf(path, buf, len, out, err);
	free(buf);
	return ret;
io_fail:
	bh_perr(err, path, 0, 0, "", "cannot read: %s", strerror(-ret));
	free(buf);
	fclose(f);
	return ret;
}
