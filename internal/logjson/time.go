package logjson

import (
	"sync/atomic"
	"time"
)

// clockCache holds the RFC 3339 text of one second in one location: the
// date and clock ("2006-01-02T15:04:05") and the zone ("Z" or "-07:00").
// Records are stamped with time.Now in one location, so nearly every record
// falls in the second the previous one did, and formatting the calendar and
// zone again (a good part of a record's cost) is wasted work.
type clockCache struct {
	sec   int64
	loc   *time.Location
	clock string
	zone  string
}

// lastSecond is shared by every handler: the second is the same for all.
var lastSecond atomic.Pointer[clockCache]

// appendRecordTime appends t in time.RFC3339Nano, as t.AppendFormat does,
// reusing the formatted second when it is the one seen last. Its year must
// be in [0, 9999].
func appendRecordTime(buf []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	c := lastSecond.Load()
	if c == nil || c.sec != sec || c.loc != loc {
		s := time.Unix(sec, 0).In(loc).Format(time.RFC3339)
		const clockLen = len("2006-01-02T15:04:05")
		c = &clockCache{sec: sec, loc: loc, clock: s[:clockLen], zone: s[clockLen:]}
		lastSecond.Store(c)
	}
	buf = append(buf, c.clock...)
	if ns := t.Nanosecond(); ns != 0 {
		buf = appendFraction(buf, ns)
	}
	return append(buf, c.zone...)
}

// appendFraction appends ".", then ns as nine digits without trailing zeros.
func appendFraction(buf []byte, ns int) []byte {
	var digits [10]byte
	digits[0] = '.'
	for i := 9; i >= 1; i-- {
		digits[i] = byte('0' + ns%10)
		ns /= 10
	}
	n := 10
	for digits[n-1] == '0' {
		n--
	}
	return append(buf, digits[:n]...)
}
