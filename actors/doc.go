// Package actors will hold the actor runtime: spawn, refs, bounded
// mailboxes, supervision, request/response and pub/sub.
//
// It is reserved by the package layout in DESIGN §2 and has no API yet; see
// the project's open issues for the planned scope.
package actors
