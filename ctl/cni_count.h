/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bulkhead-cni: every invocation is counted, with its outcome, in the
 * state store of the instance it names (stateDir in the config, else
 * $BULKHEAD_STATE_DIR, else the default), for the agent's
 * bulkhead_cni_operations_total and bulkhead_cni_errors_total.
 */
#ifndef BULKHEAD_CNI_COUNT_H
#define BULKHEAD_CNI_COUNT_H

#include "cni_cmd.h"

/* The label a CNI_COMMAND is counted under: ADD, DEL, CHECK, GC, STATUS,
 * VERSION, or "other" (unset, or not a command of the spec: the runtime's
 * value is never a label, so it cannot grow the series). */
const char *cni_count_command(const char *command);

/* Count the finished invocation: "cni.COMMAND.ok" or "cni.COMMAND.error"
 * and, on error, "cni_error.COMMAND.CODE" (the CNI error code sent).
 * Best effort, never changes the invocation's result; an instance without
 * a store yet is not created for it (nothing to report to). */
void cni_count(const struct cni_run *run, int err);
/* The same into the command's own open instance, before it closes it:
 * one store connection per invocation instead of two (each one that
 * closes checkpoints the WAL, three disk syncs). Counts only a final
 * outcome: success, or an error whose CNI code is set; else leaves it to
 * cni_count, which then does nothing more when run->counted. */
void cni_count_into(struct bh_ctx *ctx, struct cni_run *run, int err);

#endif /* BULKHEAD_CNI_COUNT_H */
