package logjson

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestAppendRecordTimeMatchesAppendFormat(t *testing.T) {
	locs := []*time.Location{time.UTC, time.Local, time.FixedZone("CET", 3600), time.FixedZone("odd", -(3*3600 + 30*60 + 15))}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		locs = append(locs, ny) // has DST transitions
	}
	base := time.Date(2024, 3, 10, 6, 59, 58, 0, time.UTC) // a New York DST change
	var instants []time.Time
	for i := range 5000 {
		instants = append(instants, base.Add(time.Duration(i)*317*time.Millisecond+time.Duration(i%7)))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		instants = append(instants, time.Unix(rng.Int64N(253402300799+62135596800)-62135596800, rng.Int64N(1e9)))
	}
	instants = append(instants,
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Now(), // with a monotonic reading
	)
	for _, ts := range instants {
		for _, loc := range locs { // the same second in turn in each location
			ts := ts.In(loc)
			if y := ts.Year(); y < 0 || y > 9999 {
				continue
			}
			want := ts.AppendFormat(nil, time.RFC3339Nano)
			if got := appendRecordTime(nil, ts); string(got) != string(want) {
				t.Fatalf("%v in %v: got %s, want %s", ts, loc, got, want)
			}
		}
	}
}

func TestAppendRecordTimeConcurrent(t *testing.T) {
	locs := []*time.Location{time.UTC, time.FixedZone("CET", 3600)}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			ts := time.Date(2025, 1, 1, 0, 0, 0, 0, locs[g%2])
			for i := range 2000 {
				ts := ts.Add(time.Duration(i) * 3 * time.Millisecond)
				if got, want := appendRecordTime(nil, ts), ts.AppendFormat(nil, time.RFC3339Nano); string(got) != string(want) {
					t.Errorf("got %s, want %s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
