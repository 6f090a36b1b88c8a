#!/usr/bin/env bash
# test_enforce.sh again, its TC programs attached through clsact (tc_attach =
# clsact, the way kernels before 6.6 attach); common.sh checks at the end
# that every program of the instance sat on clsact and none on tcx.
BH_TC_ATTACH=clsact exec bash "$(dirname "$0")/test_enforce.sh"
