#!/usr/bin/env bash
# showcase.sh measures the showcase as a 3-node cluster against one node, in
# one run: HTTP req/s of GET $ROUTE (wrk, keep-alive, loopback) and idle RSS.
#
#   flock /tmp/troupe-bench.lock bench/cluster/showcase.sh
#
# Both deployments run for the whole run and take turns, ROUNDS rounds of
# DURATION each: the single node (no NATS: none of the nats.* keys, cluster
# off) gets CONNS connections from one wrk; the cluster gets CONNS split
# over its three nodes (three wrks at once), so the offered concurrency is
# the same. The default route reaches a note's entity through the notes
# pool: in the cluster the pool's member and the entity may each be on
# another node than the one the request came in on (NATS hops). Idle RSS
# (VmRSS) is read after start-up settles, before any load: the single
# node, a lone node with the cluster on (embedded NATS, JetStream on disk),
# and each node of the three. Needs wrk and curl.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-30}
ROUTE=${ROUTE:-/api/v2/notes/1}
dir=$(mktemp -d)
pids=()
cleanup() {
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

go build -o "$dir/showcase" ./examples/showcase

# start NAME HTTP ADMIN [VAR=VALUE...]: one showcase process, logs discarded.
start() {
	local name=$1 http=$2 admin=$3
	shift 3
	env SHOWCASE_HTTP__ADDRESS="127.0.0.1:$http" SHOWCASE_ADMIN__ADDRESS="127.0.0.1:$admin" \
		SHOWCASE_RATE_LIMIT__ENABLED=false XDG_STATE_HOME="$dir/$name" "$@" \
		"$dir/showcase" >/dev/null 2>&1 &
	pids+=($!)
	eval "pid_$name=$!"
}

ready() {
	for _ in $(seq 1200); do
		curl -fs -o /dev/null "http://127.0.0.1:$1/readyz" && return 0
		sleep 0.1
	done
	echo "127.0.0.1:$1 not ready" >&2
	return 1
}

rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }

routes=nats://127.0.0.1:26222,nats://127.0.0.1:26223,nats://127.0.0.1:26224
start single 28080 29080
start lone 28090 29090 SHOWCASE_ACTORS__CLUSTER__ENABLED=true
for i in 1 2 3; do
	start "n$i" $((28080 + i)) $((29080 + i)) SHOWCASE_ACTORS__CLUSTER__ENABLED=true \
		SHOWCASE_NATS__CLUSTER__LISTEN=127.0.0.1:$((26221 + i)) SHOWCASE_NATS__CLUSTER__ROUTES=$routes
done
for p in 29080 29090 29081 29082 29083; do ready $p; done
# The state bucket opens, and the notes are seeded, on first use.
for p in 28080 28081 28082 28083; do
	for _ in $(seq 600); do
		curl -fs -o /dev/null "http://127.0.0.1:$p$ROUTE" && break
		sleep 0.1
	done
done
sleep 5 # start-up settles: the component compiled, the cluster's buckets placed
echo "# idle RSS"
echo "single node, no NATS: $(rss "$pid_single")"
echo "one node, cluster on (embedded NATS alone): $(rss "$pid_lone")"
echo "cluster nodes: $(rss "$pid_n1"), $(rss "$pid_n2"), $(rss "$pid_n3")"
kill -TERM "$pid_lone"

# reqs OUTPUT...: the sum of wrk's Requests/sec lines.
reqs() { awk '/^Requests\/sec/ {s += $2} END {printf "%.0f", s}' "$@"; }

# A warm-up round each, not counted.
wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:28080$ROUTE" >/dev/null
for i in 1 2 3; do wrk -t1 -c$((CONNS / 3)) -d2s "http://127.0.0.1:$((28080 + i))$ROUTE" >/dev/null; done
echo "# $ROUTE, $CONNS connections, $DURATION per round; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
	wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:28080$ROUTE" >"$dir/one"
	wrks=()
	for i in 1 2 3; do
		wrk -t1 -c$((CONNS / 3)) -d"$DURATION" "http://127.0.0.1:$((28080 + i))$ROUTE" >"$dir/three$i" &
		wrks+=($!)
	done
	wait "${wrks[@]}"
	grep -h "Non-2xx" "$dir/one" "$dir"/three? >&2 || true
	echo "round $r: one node $(reqs "$dir/one") req/s, three nodes $(reqs "$dir"/three?) req/s"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
