#!/usr/bin/env bash
# test_upgrade.sh again, its TC programs attached through clsact (tc_attach =
# clsact) by the older release and switched in place by the upgrade;
# common.sh checks at the end that no program of the instance sat on tcx.
BH_TC_ATTACH=clsact exec bash "$(dirname "$0")/test_upgrade.sh"
