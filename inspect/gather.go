package inspect

import (
	"slices"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Resilience is the state of the resilience stages, read from the metrics
// they record.
type Resilience struct {
	Breakers   []Breaker   `json:"breakers"`
	Bulkheads  []Bulkhead  `json:"bulkheads"`
	RateLimits []RateLimit `json:"rate_limits"`
	// SheddingLimit is the adaptive concurrency limit, -1 without shedding.
	SheddingLimit      int64  `json:"shedding_limit"`
	SheddingRejections uint64 `json:"shedding_rejections"`
}

// Breaker is one circuit breaker.
type Breaker struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	State       string `json:"state"`
	Transitions uint64 `json:"transitions"`
	Rejections  uint64 `json:"rejections"`
	// ChangedAt is when the console first saw its latest transition
	// (metrics are read when a view is, so to within a refresh); zero when
	// none was seen since the console started watching.
	ChangedAt time.Time `json:"changed_at,omitzero"`
}

// Bulkhead is one bulkhead.
type Bulkhead struct {
	Name       string `json:"name"`
	InFlight   int64  `json:"in_flight"`
	Rejections uint64 `json:"rejections"`
}

// RateLimit counts the decisions of one rate-limit policy on one route.
type RateLimit struct {
	Route    string `json:"route"`
	Policy   string `json:"policy"`
	Allowed  uint64 `json:"allowed"`
	Rejected uint64 `json:"rejected"`
}

// VersionTraffic counts the requests of one API version.
type VersionTraffic struct {
	Requests uint64            `json:"requests"`
	Routes   map[string]uint64 `json:"routes"` // "GET /api/v1/notes" → requests
}

// metricsReader reads the service's metrics and remembers when each
// breaker's transition count last moved.
type metricsReader struct {
	mu      sync.Mutex
	seen    map[string]uint64    // breaker → transitions
	changed map[string]time.Time // breaker → when they moved
}

var breakerStates = map[float64]string{0: "closed", 1: "half-open", 2: "open"}

// readings are what the console reads from the service's metrics; On is
// false when the service records none.
type readings struct {
	Resilience Resilience
	Traffic    map[string]VersionTraffic // by API version
	Realtime   Realtime
	On         bool
}

// read gathers the service's metrics once and reads every view's figures.
func (m *metricsReader) read(s *Sources) readings {
	r := readings{Traffic: map[string]VersionTraffic{}, Realtime: readRealtime(nil)}
	r.Resilience = Resilience{SheddingLimit: -1, Breakers: []Breaker{}, Bulkheads: []Bulkhead{}, RateLimits: []RateLimit{}}
	if s == nil || s.Metrics == nil {
		return r
	}
	fams, err := s.Metrics.Gather()
	if err != nil && len(fams) == 0 {
		return r
	}
	r.Resilience, r.Traffic = m.resilience(fams)
	r.Realtime, r.On = readRealtime(fams), true
	return r
}

// resilience reads the resilience stages' figures and the requests per
// API version out of fams.
func (m *metricsReader) resilience(fams []*dto.MetricFamily) (Resilience, map[string]VersionTraffic) {
	t := tally{
		res:       Resilience{SheddingLimit: -1},
		traffic:   map[string]VersionTraffic{},
		breakers:  map[string]*Breaker{},
		bulkheads: map[string]*Bulkhead{},
		limits:    map[[2]string]*RateLimit{},
	}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			t.add(f.GetName(), mt)
		}
	}
	m.stamp(t.breakers)
	return t.result(), t.traffic
}

// tally gathers the resilience figures metric by metric.
type tally struct {
	res       Resilience
	traffic   map[string]VersionTraffic
	breakers  map[string]*Breaker      // by kind/name
	bulkheads map[string]*Bulkhead     // by name
	limits    map[[2]string]*RateLimit // by route and policy
}

// add counts one metric of the family named family.
func (t *tally) add(family string, mt *dto.Metric) {
	l := labels(mt)
	switch family {
	case "http_server_request_duration_seconds":
		t.request(l, mt.GetHistogram().GetSampleCount())
	case "troupe_breaker_state":
		t.breaker(l).State = breakerStates[mt.GetGauge().GetValue()]
	case "troupe_breaker_transitions_total":
		t.breaker(l).Transitions += uint64(mt.GetCounter().GetValue())
	case "troupe_breaker_rejections_total":
		t.breaker(l).Rejections += uint64(mt.GetCounter().GetValue())
	case "troupe_bulkhead_in_flight":
		t.bulkhead(l["troupe_bulkhead_name"]).InFlight = int64(value(mt))
	case "troupe_bulkhead_rejections_total":
		t.bulkhead(l["troupe_bulkhead_name"]).Rejections += uint64(mt.GetCounter().GetValue())
	case "troupe_ratelimit_decisions_total":
		t.decision(l, uint64(mt.GetCounter().GetValue()))
	case "troupe_shedding_limit":
		t.res.SheddingLimit = int64(mt.GetGauge().GetValue())
	case "troupe_shedding_rejections_total":
		t.res.SheddingRejections += uint64(mt.GetCounter().GetValue())
	}
}

// request counts n requests of a versioned route.
func (t *tally) request(l map[string]string, n uint64) {
	v := l["troupe_api_version"]
	if v == "" {
		return
	}
	vt := t.traffic[v]
	if vt.Routes == nil {
		vt.Routes = map[string]uint64{}
	}
	vt.Requests += n
	vt.Routes[l["http_request_method"]+" "+l["http_route"]] += n
	t.traffic[v] = vt
}

func (t *tally) breaker(l map[string]string) *Breaker {
	key := l["troupe_breaker_kind"] + "/" + l["troupe_breaker_name"]
	if t.breakers[key] == nil {
		t.breakers[key] = &Breaker{Name: l["troupe_breaker_name"], Kind: l["troupe_breaker_kind"], State: "closed"}
	}
	return t.breakers[key]
}

func (t *tally) bulkhead(name string) *Bulkhead {
	if t.bulkheads[name] == nil {
		t.bulkheads[name] = &Bulkhead{Name: name}
	}
	return t.bulkheads[name]
}

// decision counts n rate-limit decisions of one route and policy.
func (t *tally) decision(l map[string]string, n uint64) {
	key := [2]string{l["http_route"], l["troupe_ratelimit_key_kind"]}
	if t.limits[key] == nil {
		t.limits[key] = &RateLimit{Route: key[0], Policy: key[1]}
	}
	if l["troupe_decision"] == "rejected" {
		t.limits[key].Rejected += n
	} else {
		t.limits[key].Allowed += n
	}
}

// result lists what was tallied, sorted.
func (t *tally) result() Resilience {
	res := t.res
	res.Breakers, res.Bulkheads, res.RateLimits = []Breaker{}, []Bulkhead{}, []RateLimit{}
	for _, b := range t.breakers {
		res.Breakers = append(res.Breakers, *b)
	}
	for _, b := range t.bulkheads {
		res.Bulkheads = append(res.Bulkheads, *b)
	}
	for _, r := range t.limits {
		res.RateLimits = append(res.RateLimits, *r)
	}
	slices.SortFunc(res.Breakers, func(a, b Breaker) int { return compareStrings(a.Kind+a.Name, b.Kind+b.Name) })
	slices.SortFunc(res.Bulkheads, func(a, b Bulkhead) int { return compareStrings(a.Name, b.Name) })
	slices.SortFunc(res.RateLimits, func(a, b RateLimit) int { return compareStrings(a.Route+a.Policy, b.Route+b.Policy) })
	return res
}

// stamp notes when each breaker's transitions moved.
func (m *metricsReader) stamp(breakers map[string]*Breaker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen, m.changed = map[string]uint64{}, map[string]time.Time{}
	}
	now := time.Now()
	for key, b := range breakers {
		if prev, ok := m.seen[key]; ok && prev != b.Transitions {
			m.changed[key] = now
		}
		m.seen[key] = b.Transitions
		b.ChangedAt = m.changed[key]
	}
}

func labels(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// value reads a gauge, or an up-down counter exported as one.
func value(m *dto.Metric) float64 {
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	return m.GetCounter().GetValue()
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
