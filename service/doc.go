// Package service builds and runs a Troupe service: it loads and validates
// configuration, wires every subsystem in the order DESIGN §4 fixes, serves
// the versioned API and the admin endpoints (health, readiness), and runs the
// graceful shutdown sequence on SIGINT or SIGTERM.
//
// New binds nothing: it validates everything first and returns one error that
// lists every problem. Run binds the listeners, serves until its context ends
// or a signal arrives, and then drains.
package service
