package main

import "github.com/troupehq/troupe/actors"

// The messages that cross nodes when the showcase runs as a cluster
// (actors.cluster.enabled): the note events every node's stats and live
// actors hear, the authorizer's question to the notes actor, and the
// replies the notes and stats actors give routed requests — each may run
// on another node than the one serving the request. Every node registers the same names; they are
// the contract between nodes (docs/cluster.md#codecs). HTTP requests and
// replies, and the summarizer component's []byte, are registered by the
// runtime.
func init() {
	actors.RegisterMessage[noteEvent]("showcase.note_event")
	actors.RegisterMessage[noteEntity]("showcase.note_entity")
	actors.RegisterMessage[noteOwner]("showcase.note_owner")
	actors.RegisterMessage[note]("showcase.note")
	actors.RegisterMessage[noteCreate]("showcase.note_create")
	actors.RegisterMessage[noteList]("showcase.note_list")
	actors.RegisterMessage[[]noteV1]("showcase.notes_v1")
	actors.RegisterMessage[stats]("showcase.stats")
}
