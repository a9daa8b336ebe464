//go:build race

package actors

// raceEnabled reports whether the race detector is on. Under it sync.Pool
// drops a random quarter of what is put back, so allocation counts are not
// the program's.
const raceEnabled = true
