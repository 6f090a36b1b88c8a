#!/usr/bin/env bash
# test_k8s_service_tc.sh with the TC programs on tcx (tc_attach = tcx): the
# Services hook at tc on a kernel with tcx (6.6+) but its netfilter hook
# not chosen. Its own addresses (10.122.0.0/16, fd0a:122::), ports, names.
BH_SVC_HOOK=tc BH_SVC_TC_ATTACH=tcx BH_SVC_NET=122 BH_SVC_PORT=23210 BH_SVC_PREFIX=svx \
	exec bash "$(dirname "$0")/test_k8s_service.sh"
