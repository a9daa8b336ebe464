package service

// A part is one subsystem of the service. New drives every part through one
// lifecycle, the way Caddy drives its modules (Validate, Provision, Cleanup):
//
//   - check validates the part's config section with the rules of the
//     packages that implement it, naming each problem by its key. It makes
//     nothing and runs while the config loads, after decoding, so New reports
//     every problem of every source and every part at once.
//   - build makes the part from its valid section and hands the builder what
//     it contributes: middleware stages, health checks, work to start and stop
//     with the service, and what to release afterwards. A part that cannot be
//     built records its problems on the builder; what it made so far is
//     released with everything else, in reverse order.
type part interface {
	check(c *checker)
	build(b *builder)
}

// parts lists the subsystems in build order. Later parts use what earlier
// ones made (the Redis client, the providers, the actor system), and the
// HTTP part, last, assembles the request path from the stages the others
// left in their slots. Releases run in the reverse order, so the telemetry
// providers flush after everything that records through them has stopped,
// and the stores close last. Adding a subsystem is one file implementing
// part and one line here.
var parts = []part{
	storesPart{},
	telemetryPart{},
	natsPart{},
	inspectPart{},
	actorsPart{},
	componentsPart{},
	authPart{},
	resiliencePart{},
	realtimePart{},
	httpPart{},
}
