// Package resilience will hold rate limiting, circuit breakers, bulkheads,
// retries and load shedding.
//
// It is reserved by the package layout in DESIGN §2 and has no API yet; see
// the project's open issues for the planned scope.
package resilience
