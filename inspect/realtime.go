package inspect

import (
	"slices"

	dto "github.com/prometheus/client_model/go"
)

// Realtime is the state of the service's WebSocket and SSE connections,
// read from the metrics package realtime records, so the inspector needs
// no hook into it (and shows nothing when no realtime route is mounted).
type Realtime struct {
	// On reports whether the service records realtime metrics at all.
	On bool `json:"on"`
	// Connections are open now, by transport ("websocket", "sse"); Limit
	// is realtime.max_connections.
	Connections map[string]int64 `json:"connections"`
	Limit       int64            `json:"limit"`
	// Upgrades count upgrade attempts by outcome, Closes closed
	// connections by reason.
	Upgrades []Count `json:"upgrades"`
	Closes   []Count `json:"closes"`
	// MessagesIn and MessagesOut count messages from and to clients;
	// SlowConsumerDrops those a full outbound queue dropped.
	MessagesIn        uint64 `json:"messages_in"`
	MessagesOut       uint64 `json:"messages_out"`
	SlowConsumerDrops uint64 `json:"slow_consumer_drops"`
}

// Count is a counter's value for one label value.
type Count struct {
	Name  string `json:"name"`
	Count uint64 `json:"count"`
}

// Open is how many connections are open, over every transport.
func (r Realtime) Open() int64 {
	var n int64
	for _, c := range r.Connections {
		n += c
	}
	return n
}

// readRealtime reads the realtime families out of fams.
func readRealtime(fams []*dto.MetricFamily) Realtime {
	r := Realtime{Connections: map[string]int64{}, Upgrades: []Count{}, Closes: []Count{}}
	upgrades, closes := map[string]uint64{}, map[string]uint64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			l := labels(m)
			switch f.GetName() {
			case "troupe_realtime_connections":
				r.On = true
				r.Connections[l["troupe_realtime_transport"]] += int64(value(m))
			case "troupe_realtime_connections_limit":
				r.On, r.Limit = true, int64(value(m))
			case "troupe_realtime_upgrades_total":
				upgrades[l["troupe_realtime_outcome"]] += uint64(value(m))
			case "troupe_realtime_closes_total":
				closes[l["troupe_realtime_close_reason"]] += uint64(value(m))
			case "troupe_realtime_messages_total":
				if l["troupe_realtime_direction"] == "in" {
					r.MessagesIn += uint64(value(m))
				} else {
					r.MessagesOut += uint64(value(m))
				}
			case "troupe_realtime_slow_consumer_drops_total":
				r.SlowConsumerDrops += uint64(value(m))
			}
		}
	}
	r.Upgrades, r.Closes = counts(upgrades), counts(closes)
	return r
}

// counts lists m by name.
func counts(m map[string]uint64) []Count {
	out := make([]Count, 0, len(m))
	for name, n := range m {
		out = append(out, Count{name, n})
	}
	slices.SortFunc(out, func(a, b Count) int { return compareStrings(a.Name, b.Name) })
	return out
}
