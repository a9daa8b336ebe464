package resilience

import (
	"testing"
	"time"
)

func TestGCRA(t *testing.T) {
	sec := int64(time.Second)
	tenPerSec := Limit{Rate: 10, Period: time.Second}       // interval 100ms, burst 10
	burst3 := Limit{Rate: 1, Period: time.Second, Burst: 3} // interval 1s, burst 3
	tests := []struct {
		name    string
		l       Limit
		tat     int64
		now     int64
		n       int
		wantTAT int64
		want    Result
	}{
		{"fresh key spends one of a full burst", tenPerSec, 0, 5 * sec, 1, 5*sec + sec/10,
			Result{Allowed: true, Remaining: 9, ResetAfter: 100 * time.Millisecond}},
		{"idle key is as good as fresh", tenPerSec, 2 * sec, 5 * sec, 1, 5*sec + sec/10,
			Result{Allowed: true, Remaining: 9, ResetAfter: 100 * time.Millisecond}},
		{"last token of the burst", burst3, 10*sec + 2*sec, 10 * sec, 1, 13 * sec,
			Result{Allowed: true, Remaining: 0, ResetAfter: 3 * time.Second}},
		{"burst spent: refused until one interval frees", burst3, 13 * sec, 10 * sec, 1, 13 * sec,
			Result{Remaining: 0, RetryAfter: time.Second, ResetAfter: 3 * time.Second}},
		{"steady rate: one interval later one more fits", burst3, 13 * sec, 11 * sec, 1, 14 * sec,
			Result{Allowed: true, Remaining: 0, ResetAfter: 3 * time.Second}},
		{"cost above what is left is refused with the wait for all of it", burst3, 12 * sec, 10 * sec, 3, 12 * sec,
			Result{Remaining: 1, RetryAfter: 2 * time.Second, ResetAfter: 2 * time.Second}},
		{"cost of a whole burst on a fresh key", burst3, 0, 10 * sec, 3, 13 * sec,
			Result{Allowed: true, Remaining: 0, ResetAfter: 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tat, got := gcra(tt.tat, tt.now, tt.l, tt.n)
			tt.want.Limit = tt.l
			if tat != tt.wantTAT || got != tt.want {
				t.Errorf("gcra = %d, %+v; want %d, %+v", tat, got, tt.wantTAT, tt.want)
			}
		})
	}
}

// TestGCRASequence drives one key through a burst and the steady rate
// after it, the behaviour clients see.
func TestGCRASequence(t *testing.T) {
	l := Limit{Rate: 2, Period: time.Second, Burst: 4} // interval 500ms
	var tat, now int64
	allowed := 0
	for range 10 { // ten requests at one instant: only the burst passes
		var res Result
		if tat, res = gcra(tat, now, l, 1); res.Allowed {
			allowed++
		}
	}
	if allowed != 4 {
		t.Fatalf("burst admitted %d, want 4", allowed)
	}
	allowed = 0
	for range 20 { // then one request every 250ms for 5s: 2 per second pass
		now += int64(250 * time.Millisecond)
		var res Result
		if tat, res = gcra(tat, now, l, 1); res.Allowed {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("5 s at twice the rate admitted %d, want 10", allowed)
	}
}

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		l  Limit
		ok bool
	}{
		{PerSecond(10), true},
		{PerMinute(60), true},
		{Limit{Rate: 5, Period: time.Second, Burst: 1}, true},
		{Limit{Rate: 0, Period: time.Second}, false},
		{Limit{Rate: -1, Period: time.Second}, false},
		{Limit{Rate: 1}, false},
		{Limit{Rate: 1, Period: time.Second, Burst: -1}, false},
		{Limit{Rate: 10, Period: time.Nanosecond}, false},
	}
	for _, tt := range tests {
		if err := tt.l.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok=%v", tt.l, err, tt.ok)
		}
	}
}

func TestHeaderFields(t *testing.T) {
	tests := []struct {
		l          Limit
		res        Result
		policy, rl string
	}{
		{PerMinute(60), Result{Remaining: 59, ResetAfter: time.Second},
			`"ip";q=60;w=60`, `"ip";r=59;t=1`},
		{Limit{Rate: 10, Period: time.Second, Burst: 5}, Result{Remaining: 0, ResetAfter: 450 * time.Millisecond},
			`"ip";q=5;w=1`, `"ip";r=0;t=1`},
		{Limit{Rate: 1, Period: time.Hour, Burst: 3}, Result{Remaining: 2, ResetAfter: 3601 * time.Second},
			`"ip";q=3;w=10800`, `"ip";r=2;t=3601`},
	}
	for _, tt := range tests {
		if got := policyField("ip", tt.l); got != tt.policy {
			t.Errorf("policyField(%+v) = %s, want %s", tt.l, got, tt.policy)
		}
		if got := rateLimitField("ip", tt.res); got != tt.rl {
			t.Errorf("rateLimitField(%+v) = %s, want %s", tt.res, got, tt.rl)
		}
	}
}
