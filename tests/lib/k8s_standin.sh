# Sourced by the tests and benches that need a Kubernetes API: the
# stand-in API server tests/lib/k8s_apiserver.py (a test double; no real
# API server exists on the machines these run on) and a kubeconfig for it.
# Needs BH_STANDIN_PY (default python3) able to run it.

BH_STANDIN=${BH_STANDIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/k8s_apiserver.py}

# standin_serve LISTEN CONTROL LOG [serve options...]: the server in the
# background (its pid in STANDIN_PID), returning once its control port
# answers; 1 when it does not within 10 s.
standin_serve() {
	local listen=$1 control=$2 log=$3 i
	shift 3
	"${BH_STANDIN_PY:-python3}" "$BH_STANDIN" serve --listen "$listen" --control "$control" \
		"$@" >"$log" 2>&1 &
	STANDIN_PID=$!
	for ((i = 0; i < 100; i++)); do
		"${BH_STANDIN_PY:-python3}" "$BH_STANDIN" ctl "http://$control" stats >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	echo "the stand-in API server did not answer on $control (log: $log)" >&2
	return 1
}

# standin_kubeconfig SERVER TOKEN: a kubeconfig naming SERVER (a URL) with
# a bearer token, on stdout.
standin_kubeconfig() {
	cat <<YAML
apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "$1"}}]
users: [{name: u, user: {token: $2}}]
YAML
}
