package telemetry

// Metric names recorded by Troupe's subsystems. This list is the single
// source of truth: docs/observability.md documents the same names, and
// TestDocumentedMetrics fails when one is missing there. Prometheus scrapes
// them with dots as underscores and the usual suffixes (see newPrometheus).
const (
	// MetricRateLimitDecisions counts rate-limit decisions, allowed or rejected.
	MetricRateLimitDecisions = "troupe.ratelimit.decisions"
	// MetricRateLimitStoreErrors counts failed calls to a rate-limit store.
	MetricRateLimitStoreErrors = "troupe.ratelimit.store.errors"

	// MetricBreakerTransitions counts circuit-breaker state changes.
	MetricBreakerTransitions = "troupe.breaker.transitions"
	// MetricBreakerState is a breaker's current state: 0 closed, 1 half-open, 2 open.
	MetricBreakerState = "troupe.breaker.state"
	// MetricBreakerRejections counts calls an open breaker refused.
	MetricBreakerRejections = "troupe.breaker.rejections"

	// MetricBulkheadQueueDuration is how long a call waited for a bulkhead slot.
	MetricBulkheadQueueDuration = "troupe.bulkhead.queue.duration"
	// MetricBulkheadInFlight is the number of calls holding a bulkhead slot.
	MetricBulkheadInFlight = "troupe.bulkhead.in_flight"
	// MetricBulkheadRejections counts calls a full bulkhead refused.
	MetricBulkheadRejections = "troupe.bulkhead.rejections"

	// MetricSheddingRejections counts requests the load shedder refused.
	MetricSheddingRejections = "troupe.shedding.rejections"
	// MetricSheddingLimit is the load shedder's current concurrency limit.
	MetricSheddingLimit = "troupe.shedding.limit"

	// MetricClientRetries counts outbound attempts; troupe.retry tells
	// first attempts from retries.
	MetricClientRetries = "troupe.client.retries"
	// MetricClientRetryBudgetExhausted counts retries skipped because the
	// retry budget was spent.
	MetricClientRetryBudgetExhausted = "troupe.client.retry_budget.exhausted"

	// MetricAuthnResults counts authentication outcomes.
	MetricAuthnResults = "troupe.authn.results"
	// MetricAuthzDecisions counts authorization decisions.
	MetricAuthzDecisions = "troupe.authz.decisions"
	// MetricAuthzDuration is how long an authorization decision took.
	MetricAuthzDuration = "troupe.authz.duration"
	// MetricAuthCacheLookups counts lookups in the verified-token and
	// decision caches, hits and misses.
	MetricAuthCacheLookups = "troupe.auth.cache.lookups"

	// MetricActorProcessingDuration is how long an actor took to process one message.
	MetricActorProcessingDuration = "troupe.actor.processing.duration"
	// MetricActorRestarts counts actor restarts by their supervisor.
	MetricActorRestarts = "troupe.actor.restarts"
	// MetricActorDeadLetters counts messages that reached no actor.
	MetricActorDeadLetters = "troupe.actor.dead_letters"
	// MetricActorMailboxDropped counts messages a full mailbox dropped or rejected.
	MetricActorMailboxDropped = "troupe.actor.mailbox.dropped"
	// MetricActorMailboxDepth is the number of messages waiting in mailboxes.
	MetricActorMailboxDepth = "troupe.actor.mailbox.depth"
	// MetricActorRemoteSent counts envelopes a node sent to other nodes.
	MetricActorRemoteSent = "troupe.actor.remote.sent"
	// MetricActorRemoteReceived counts envelopes a node received from others.
	MetricActorRemoteReceived = "troupe.actor.remote.received"
	// MetricActorRemoteRequestDuration is how long a remote request or
	// control call waited for its reply.
	MetricActorRemoteRequestDuration = "troupe.actor.remote.request.duration"

	// MetricComponentDenials counts host calls a component's capabilities refused.
	MetricComponentDenials = "troupe.component.denials"
	// MetricComponentInstanceFailures counts WASM instances discarded because
	// they trapped, ran past their deadline or broke the host ABI.
	MetricComponentInstanceFailures = "troupe.component.instance.failures"
	// MetricComponentReloads counts hot reloads of a component's module.
	MetricComponentReloads = "troupe.component.reloads"

	// MetricRealtimeConnections is the number of open realtime connections.
	MetricRealtimeConnections = "troupe.realtime.connections"
	// MetricRealtimeConnectionsLimit is the process's connection limit.
	MetricRealtimeConnectionsLimit = "troupe.realtime.connections.limit"
	// MetricRealtimeUpgrades counts upgrade attempts by outcome.
	MetricRealtimeUpgrades = "troupe.realtime.upgrades"
	// MetricRealtimeMessages counts messages received from and written to clients.
	MetricRealtimeMessages = "troupe.realtime.messages"
	// MetricRealtimeBytes counts the bytes of those messages.
	MetricRealtimeBytes = "troupe.realtime.bytes"
	// MetricRealtimeSlowConsumerDrops counts messages dropped because a
	// connection's outbound queue was full.
	MetricRealtimeSlowConsumerDrops = "troupe.realtime.slow_consumer.drops"
	// MetricRealtimeCloses counts closed connections by reason.
	MetricRealtimeCloses = "troupe.realtime.closes"
	// MetricRealtimeDeliveryDuration is the time from a message's
	// publication to its write to a connection.
	MetricRealtimeDeliveryDuration = "troupe.realtime.delivery.duration"

	// MetricInspectEvents counts the events the inspector recorded.
	MetricInspectEvents = "troupe.inspect.events"
	// MetricInspectDropped counts recorded events the inspector's full
	// buffer replaced before their retention ended.
	MetricInspectDropped = "troupe.inspect.events.dropped"
	// MetricInspectSamplingRate is the share of messages the inspector traces.
	MetricInspectSamplingRate = "troupe.inspect.sampling.rate"
	// MetricInspectMemory is the memory the inspector's buffers hold.
	MetricInspectMemory = "troupe.inspect.memory"
	// MetricInspectCycles counts the request cycles the inspector detected.
	MetricInspectCycles = "troupe.inspect.cycles"
	// MetricNATSConnectionState is the NATS connection's state: 0 connected,
	// 1 connecting or reconnecting, 2 closed.
	MetricNATSConnectionState = "troupe.nats.connection.state"
	// MetricNATSRTT is the round trip time to the NATS server.
	MetricNATSRTT = "troupe.nats.rtt"
	// MetricNATSReconnects counts reconnections after a lost connection.
	MetricNATSReconnects = "troupe.nats.reconnects"
	// MetricNATSMessages counts messages received from and sent to NATS.
	MetricNATSMessages = "troupe.nats.messages"
	// MetricNATSTraffic counts payload bytes received from and sent to NATS.
	MetricNATSTraffic = "troupe.nats.traffic"
	// MetricNATSErrors counts asynchronous NATS errors (slow consumers,
	// permission violations).
	MetricNATSErrors = "troupe.nats.errors"
	// MetricNATSRoutes is the number of servers of the embedded NATS cluster
	// this one has a route to.
	MetricNATSRoutes = "troupe.nats.server.routes"
)

// metricNames lists every constant above, for the documentation test.
var metricNames = []string{
	MetricRateLimitDecisions, MetricRateLimitStoreErrors,
	MetricBreakerTransitions, MetricBreakerState, MetricBreakerRejections,
	MetricBulkheadQueueDuration, MetricBulkheadInFlight, MetricBulkheadRejections,
	MetricSheddingRejections, MetricSheddingLimit,
	MetricClientRetries, MetricClientRetryBudgetExhausted,
	MetricAuthnResults, MetricAuthzDecisions, MetricAuthzDuration, MetricAuthCacheLookups,
	MetricActorProcessingDuration, MetricActorRestarts, MetricActorDeadLetters,
	MetricActorMailboxDropped, MetricActorMailboxDepth,
	MetricActorRemoteSent, MetricActorRemoteReceived, MetricActorRemoteRequestDuration,
	MetricComponentDenials, MetricComponentInstanceFailures, MetricComponentReloads,
	MetricRealtimeConnections, MetricRealtimeConnectionsLimit, MetricRealtimeUpgrades,
	MetricRealtimeMessages, MetricRealtimeBytes, MetricRealtimeSlowConsumerDrops,
	MetricRealtimeCloses, MetricRealtimeDeliveryDuration,
	MetricInspectEvents, MetricInspectDropped, MetricInspectSamplingRate, MetricInspectMemory, MetricInspectCycles,
	MetricNATSConnectionState, MetricNATSRTT, MetricNATSReconnects, MetricNATSMessages,
	MetricNATSTraffic, MetricNATSErrors, MetricNATSRoutes,
}
