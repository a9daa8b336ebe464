package middleware_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/troupehq/troupe/middleware"
)

var serverOrder = []string{"zstd", "br", "gzip", "deflate"}

func TestNegotiateEncoding(t *testing.T) {
	tests := []struct {
		name    string
		accept  string
		offered []string // serverOrder when nil
		want    string
		wantOK  bool
	}{
		{"empty value means identity only", "", nil, "identity", true},
		{"single coding", "gzip", nil, "gzip", true},
		{"equal weights follow server order", "gzip, br", nil, "br", true},
		{"equal explicit weights follow server order", "gzip;q=0.5, br;q=0.5", nil, "br", true},
		{"higher weight beats server order", "gzip;q=1.0, br;q=0.5", nil, "gzip", true},
		{"server order decides within a custom list", "zstd, gzip", []string{"gzip", "zstd"}, "gzip", true},
		{"wildcard picks the server's favourite", "*", nil, "zstd", true},
		{"wildcard covers only unnamed codings", "zstd;q=0, *;q=0.5", nil, "br", true},
		{"wildcard zero excludes everything", "*;q=0", nil, "", false},
		{"identity zero alone excludes everything", "identity;q=0", nil, "", false},
		{"identity and wildcard zero", "identity;q=0, *;q=0", nil, "", false},
		{"identity excluded but a coding allowed", "identity;q=0, gzip", nil, "gzip", true},
		{"wildcard zero but identity named", "*;q=0, identity", nil, "identity", true},
		{"identity outweighs wildcard", "*;q=0.5, identity;q=0.8", nil, "identity", true},
		{"excluded coding, wildcard for the rest", "gzip;q=0,*", nil, "zstd", true},
		{"excluded coding, wildcard covers identity", "gzip;q=0,*", []string{"gzip"}, "identity", true},
		{"explicit identity", "identity", nil, "identity", true},
		{"identity outweighs a coding", "gzip;q=0.5, identity", nil, "identity", true},
		{"coding beats identity at equal weight", "gzip;q=0.5, identity;q=0.5", nil, "gzip", true},
		{"unnamed identity is only a last resort", "gzip;q=0.5", nil, "gzip", true},
		{"smallest positive weight", "br;q=0.001", nil, "br", true},
		{"zero weight with dot", "gzip;q=0.", nil, "identity", true},
		{"weight one with zeros", "gzip;q=1.000", nil, "gzip", true},
		{"malformed q abc ignored", "gzip;q=abc", nil, "identity", true},
		{"malformed q 2 ignored", "gzip;q=2", nil, "identity", true},
		{"malformed q -1 ignored", "gzip;q=-1", nil, "identity", true},
		{"too many decimals ignored", "gzip;q=0.1234", nil, "identity", true},
		{"above one ignored", "gzip;q=1.001", nil, "identity", true},
		{"empty q ignored", "gzip;q=", nil, "identity", true},
		{"space around equals ignored", "gzip;q = 0.5", nil, "identity", true},
		{"unknown parameter ignored", "gzip;level=9", nil, "identity", true},
		{"semicolons only", ";;;", nil, "identity", true},
		{"repeated parameters ignored", "gzip;q=0.5;q=0.4", nil, "identity", true},
		{"malformed element does not spoil others", "gzip;q=abc, br;q=0.2", nil, "br", true},
		{"malformed exclusion is not an exclusion", "*;q=x", nil, "identity", true},
		{"uppercase tokens", "GZIP", nil, "gzip", true},
		{"uppercase q", "Br;Q=0.9, gzip;q=0.8", nil, "br", true},
		{"whitespace and tabs", "  gzip ;  q=0.8 ,\tbr;q=0.9 ", nil, "br", true},
		{"empty elements", ", , gzip ,,", nil, "gzip", true},
		{"x-gzip means gzip", "x-gzip", nil, "gzip", true},
		{"x-gzip uppercase with weight", "X-GZIP;q=0.7, br;q=0.6", nil, "gzip", true},
		{"first mention counts", "gzip, gzip;q=0", nil, "gzip", true},
		{"unsupported codings", "compress, lz4", nil, "identity", true},
		{"invalid token", "gz ip", nil, "identity", true},
		{"nothing offered", "gzip", []string{}, "identity", true},
		{"nothing offered and identity excluded", "gzip, identity;q=0", []string{}, "", false},
		{"deflate", "deflate", nil, "deflate", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offered := tt.offered
			if offered == nil {
				offered = serverOrder
			}
			got, ok := middleware.NegotiateEncoding(tt.accept, offered)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("NegotiateEncoding(%q, %q) = %q, %v; want %q, %v", tt.accept, offered, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func FuzzNegotiateEncoding(f *testing.F) {
	for _, seed := range []string{
		"", "gzip", "gzip, br;q=0.9", "*;q=0", "identity;q=0", "gzip;q=0,*", "x-gzip",
		"gzip;q=abc", "gzip;q=2", "gzip;q=-1", ";;;", "GZIP;Q=1.000", " \t,,", "zstd;q=0.001",
		"br;q=0.", "*, identity;q=0", "a,b,c,d,e;q=0.5",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		coding, ok := middleware.NegotiateEncoding(accept, serverOrder)
		switch {
		case !ok && coding != "":
			t.Fatalf("NegotiateEncoding(%q) = %q, false; want an empty coding with ok false", accept, coding)
		case ok && coding != "identity" && !slices.Contains(serverOrder, coding):
			t.Fatalf("NegotiateEncoding(%q) = %q, which was not offered", accept, coding)
		}
	})
}

func ExampleNegotiateEncoding() {
	offered := []string{"zstd", "br", "gzip"}
	for _, accept := range []string{
		"gzip, br;q=0.9",      // highest weight wins
		"gzip, br",            // equal weights: server order
		"gzip;q=0, *",         // anything but gzip
		"",                    // empty: identity only
		"identity;q=0, *;q=0", // nothing acceptable
	} {
		coding, ok := middleware.NegotiateEncoding(accept, offered)
		fmt.Printf("%-22q -> %q %v\n", accept, coding, ok)
	}
	// Output:
	// "gzip, br;q=0.9"       -> "gzip" true
	// "gzip, br"             -> "br" true
	// "gzip;q=0, *"          -> "zstd" true
	// ""                     -> "identity" true
	// "identity;q=0, *;q=0"  -> "" false
}

func BenchmarkNegotiateEncoding(b *testing.B) {
	for _, accept := range []string{
		"gzip, deflate, br, zstd", // what current browsers send
		"gzip;q=0.8, x-gzip;q=0.7, br;q=0.9, identity;q=0.1, *;q=0",
	} {
		b.Run(accept, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				middleware.NegotiateEncoding(accept, serverOrder)
			}
		})
	}
}
