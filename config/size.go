package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a number of bytes. In config it is written as a string with a unit
// ("512B", "10KiB", "4MiB", "1GB") or as a plain non-negative integer of
// bytes, so limits read the way operators think of them.
type Size int64

// IEC byte multiples, for writing defaults and limits in code (4 * MiB).
const (
	KiB Size = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
	PiB
	EiB
)

// sizeUnits maps each accepted unit, upper-cased, to its multiplier.
var sizeUnits = map[string]int64{
	"":    1,
	"B":   1,
	"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40, "PIB": 1 << 50, "EIB": 1 << 60,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15, "EB": 1e18,
}

// iecUnits lists the IEC units largest first, for String.
var iecUnits = []struct {
	name string
	size Size
}{{"EiB", EiB}, {"PiB", PiB}, {"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}}

// ParseSize parses a size: decimal digits, an optional single space and an
// optional case-insensitive unit (B, KiB, MiB, GiB, TiB, PiB, EiB, KB, MB,
// GB, TB, PB, EB). No unit means bytes. Signs, fractions, other spacing and
// values beyond the int64 range are rejected rather than guessed at, because
// a limit that silently means something else is worse than a startup error.
func ParseSize(s string) (Size, error) {
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if digits == 0 {
		return 0, fmt.Errorf("invalid size %q: must start with a non-negative whole number", s)
	}
	unit := strings.TrimPrefix(s[digits:], " ")
	mult, ok := sizeUnits[strings.ToUpper(unit)]
	if !ok {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (use B, KiB, MiB, GiB, KB, MB or GB)", s, unit)
	}
	if unit == "" && len(s) > digits {
		return 0, fmt.Errorf("invalid size %q: trailing space", s)
	}
	n, err := strconv.ParseInt(s[:digits], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: %w", s, errSizeRange)
	}
	return Size(n * mult), nil
}

var errSizeRange = errors.New("too large")

// String returns the shortest exact IEC form of s: "10MiB", "1536B", "0B".
// ParseSize reads it back to the same value.
func (s Size) String() string {
	if s != 0 {
		for _, u := range iecUnits {
			if s%u.size == 0 {
				return strconv.FormatInt(int64(s/u.size), 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// Int64 returns s as a plain byte count, for APIs such as
// http.Server.MaxHeaderBytes or io.LimitReader that take one.
func (s Size) Int64() int64 { return int64(s) }
