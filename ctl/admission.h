/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The admission decision of `bulkhead webhook`, apart from HTTP and TLS
 * so that it is tested without a server: an admission.k8s.io/v1
 * AdmissionReview in, the AdmissionReview answer out.
 *
 * A NetworkPolicy (networking.k8s.io/v1) or BulkheadPolicy (bulkhead.io/v1)
 * is allowed when `bulkhead policy apply` accepts it: what the parser
 * accepts, bulkhead enforces exactly; everything else (a named port, a
 * field it does not know, a selector operator it cannot evaluate...) is
 * denied with the field and the reason, so that no policy is stored in the
 * cluster that bulkhead would silently enforce differently. The document
 * the parser sees is the object's apiVersion, kind, spec and the metadata
 * bulkhead reads (name, namespace, labels, annotations); the API server's
 * own metadata (uid, managedFields...) and status are not policy.
 * DELETE and CONNECT, and kinds other than these two, are allowed.
 */
#ifndef BULKHEAD_ADMISSION_H
#define BULKHEAD_ADMISSION_H

#include <stddef.h>

/* body: the request's JSON. On 0, *response is the JSON to send with
 * HTTP 200 (malloc'ed). -EINVAL: not an AdmissionReview we can answer;
 * msg says why (send 400). -ENOMEM. */
int bh_admission_review(const char *body, size_t len, char **response, char *msg,
			size_t msg_len);

#endif /* BULKHEAD_ADMISSION_H */
