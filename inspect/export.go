package inspect

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// csvHeader names the columns of the CSV export, one event a row.
var csvHeader = []string{
	"seq", "kind", "time", "actor_id", "actor", "from_id", "from", "message", "request",
	"enqueued", "started", "replied", "wait_us", "processing_us", "outcome", "error", "detail", "trace_id", "request_id",
}

// WriteCSV writes events as CSV with a header row; times are RFC 3339 with
// nanoseconds, durations whole microseconds.
func WriteCSV(w io.Writer, events []Event) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for k := range events {
		e := &events[k]
		if err := cw.Write([]string{
			strconv.FormatUint(e.Seq, 10), e.Kind, stamp(e.Time),
			id(e.ActorID), e.Actor, id(e.FromID), e.From, e.Message, strconv.FormatBool(e.Request),
			stamp(e.Enqueued), stamp(e.Started), stamp(e.Replied),
			strconv.FormatInt(e.Wait.Microseconds(), 10), strconv.FormatInt(e.Processing.Microseconds(), 10),
			e.Outcome, e.Error, e.Detail, e.TraceID.String(), e.RequestID,
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes events as a JSON array.
func WriteJSON(w io.Writer, events []Event) error {
	return json.NewEncoder(w).Encode(events)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func id(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}
