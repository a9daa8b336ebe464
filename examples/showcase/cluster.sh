#!/usr/bin/env bash
# cluster.sh starts three showcase nodes on loopback that form one cluster:
# their embedded NATS servers route to each other (one JetStream cluster,
# replicated buckets) and their actor systems join it
# (actors.cluster.enabled). Ctrl-C stops all three, each gracefully.
#
#   examples/showcase/cluster.sh          # from anywhere in the repository
#
# Node N serves HTTP on 127.0.0.1:808N, its admin listener on 127.0.0.1:909N
# and NATS routes on 127.0.0.1:622N; HTTP_PORT, ADMIN_PORT and ROUTE_PORT
# move the first of each (the others follow). Each node keeps its state
# (JetStream's files) in $CLUSTER_DIR/nodeN, by default a directory under
# ${TMPDIR:-/tmp}; delete it to start from nothing. Extra SHOWCASE_*
# variables in the environment apply to every node.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" # the showcase finds its policies and components from here
http_port=${HTTP_PORT:-8081}
admin_port=${ADMIN_PORT:-9091}
route_port=${ROUTE_PORT:-6222}
dir=${CLUSTER_DIR:-${TMPDIR:-/tmp}/showcase-cluster}
mkdir -p "$dir"

# One build for the three nodes (three `go run`s would compile three times).
echo "building the showcase into $dir/showcase"
go build -o "$dir/showcase" ./examples/showcase

routes=""
for i in 0 1 2; do
	routes+="${routes:+,}nats://127.0.0.1:$((route_port + i))"
done

# Each node in its own process group (job control), so Ctrl-C reaches this
# script alone, which then sends each node one SIGTERM: a graceful stop
# that hands its names and singletons over. A node that got the terminal's
# SIGINT as well would take the SIGTERM as a second signal and exit at once.
set -m
pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping the nodes"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	exit 0
}
trap stop INT TERM EXIT

for i in 1 2 3; do
	# Every node logs to this terminal, each line prefixed with its node; the
	# prefixing sed ignores Ctrl-C, so it outlives its node's last line.
	env SHOWCASE_HTTP__ADDRESS="127.0.0.1:$((http_port + i - 1))" \
		SHOWCASE_ADMIN__ADDRESS="127.0.0.1:$((admin_port + i - 1))" \
		SHOWCASE_NATS__CLUSTER__LISTEN="127.0.0.1:$((route_port + i - 1))" \
		SHOWCASE_NATS__CLUSTER__ROUTES="$routes" \
		SHOWCASE_ACTORS__CLUSTER__ENABLED=true \
		XDG_STATE_HOME="$dir/node$i" \
		"$dir/showcase" > >(trap '' INT TERM; exec sed -u "s/^/[node $i] /") 2>&1 &
	pids+=($!)
done

for i in 1 2 3; do
	echo "node $i: pid ${pids[$((i - 1))]}, API http://127.0.0.1:$((http_port + i - 1)), admin http://127.0.0.1:$((admin_port + i - 1)) (/readyz, /console), route 127.0.0.1:$((route_port + i - 1)), state $dir/node$i"
done
echo "the nodes wait for each other to place the cluster's buckets; each is ready when its /readyz answers 200. Ctrl-C stops them."
# A node that exits (or that you kill -9 to watch the cluster recover)
# leaves the others running; the script ends when all have exited.
wait "${pids[@]}" || true
