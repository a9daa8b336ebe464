// Package inspect is Troupe's inspector: it records sampled message events
// from an actor system within fixed bounds, reports request cycles, and
// serves what it knows as a JSON API and an ops console. docs/inspector.md
// is the operator's guide.
//
// An Inspector is the System's actors.Observer (see ActorOptions): the
// actor system traces the messages the Inspector's actors.Sampling picks —
// a share set by the Mode or Config.SamplingRate, drawn by the System per
// actor and adapted to an overhead target when asked, plus every message
// whose cause OTel samples — and tells it how each ended, about every dead
// letter and restart, and about each request cycle its detector finds. The Inspector keeps events in a ring of
// Config.MaxEvents, figures for at most Config.MaxActors actors, and
// drops both after Config.Retention. Handler serves /inspect/ and
// /console.
//
// # Rationale
//
// Why a package of its own, beside actors rather than actors/inspect: the
// inspector serves HTTP (the console, the API, live updates) and shows
// the whole service — health, API versions, breakers, WASM components,
// config — which the actor runtime must not know about (DESIGN §2:
// actors imports no HTTP package but Route's adapter). What the actor core
// needed is one seam, actors.Observer (actors/observe.go) and the cycle
// detector (actors/cycles.go), which cost a nil check per message while
// no observer is set. Everything else — sampling policy, buffers,
// figures, exports, the console — is here, so the core stays small and a
// remote transport or a new view can change one side without the other.
//
// One record per traced message, not four events: the enqueue, start,
// reply and end of a message are kept together (with the mailbox wait and
// processing time they give), written once when the message ends. That
// is one lock and one slot per message instead of four, and a CSV row an
// operator can read. A dead letter, a restart, a cycle and its resolution
// are events of their own.
//
// Messages are recorded by type, never by value: an inspector that kept
// payloads would keep secrets, and memory the bounds could not predict.
//
// The actor table is a snapshot read at most once a second: walking
// 100,000 actors takes tens of milliseconds (TestConsoleManyActors), so
// every refresh of every console cannot pay it.
package inspect
