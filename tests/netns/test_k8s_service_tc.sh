#!/usr/bin/env bash
# test_k8s_service.sh again with the Services hook at tc (service_hook =
# tc) and the TC programs on clsact (tc_attach = clsact): what a kernel
# without BPF netfilter links and tcx (Debian 12's 6.1) runs. Its own
# addresses (10.122.0.0/16, fd0a:122::), ports and names.
BH_SVC_HOOK=tc BH_SVC_NET=122 BH_SVC_PORT=23200 BH_SVC_PREFIX=svf \
	exec bash "$(dirname "$0")/test_k8s_service.sh"
