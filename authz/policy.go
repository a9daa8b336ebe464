package authz

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	cedar "github.com/cedar-policy/cedar-go"
)

// PolicyStore holds the Cedar policy set that authorization evaluates,
// loaded from one .cedar file or a directory of them. The set in use is
// swapped atomically on reload, so a request always sees one complete set:
// never half of an old one and half of a new one.
//
// A directory is read non-recursively: its regular files (or symlinks to
// them, as Kubernetes mounts ConfigMaps) whose names end in ".cedar" and do
// not start with ".", in name order. A file given by name is read whatever
// its extension.
//
// Each policy is identified by its @id("...") annotation when it has one,
// and otherwise by "<file base name>:<line>:<column>" of its first token,
// e.g. "notes.cedar:12:1". The IDs are what decisions report and logs show;
// a duplicate ID is a load error.
type PolicyStore struct {
	path    string
	current atomic.Pointer[policySnapshot]

	mu       sync.Mutex // serialises reloads; guards the fields below
	seen     [sha256.Size]byte
	lastErr  error
	onReload []func(generation uint64)
}

// policySnapshot is one loaded policy set. It is immutable once published,
// so the generation always names exactly this set.
type policySnapshot struct {
	set        *cedar.PolicySet
	generation uint64
	count      int
	context    contextUsage
}

// LoadPolicies reads and parses the policies at path (a .cedar file or a
// directory of them) and returns a store holding them at generation 1. Any
// unreadable file, a directory without .cedar files, a parse error (a
// *PolicyError naming file:line:column) or a duplicate policy ID is an
// error: authorization must not start on a set other than the one written.
func LoadPolicies(path string) (*PolicyStore, error) {
	srcs, err := readPolicySources(path)
	if err != nil {
		return nil, err
	}
	snap, err := compilePolicies(srcs)
	if err != nil {
		return nil, err
	}
	snap.generation = 1
	s := &PolicyStore{path: path, seen: fingerprint(srcs)}
	s.current.Store(snap)
	return s, nil
}

// Reload re-reads the policies now, as Watch does on each tick, and swaps
// them in when they changed and parse. On failure the current set stays in
// use and the error is returned and kept for LastError. Sources identical to
// the last ones tried are not parsed again: Reload then returns LastError.
func (s *PolicyStore) Reload() error {
	_, err := s.reload()
	return err
}

// reload is Reload that also reports whether the sources differed from the
// last attempt, so Watch logs each change or failure once rather than on
// every tick.
func (s *PolicyStore) reload() (changed bool, err error) {
	return s.apply(readFingerprinted(s.path))
}

// readFingerprinted reads the sources at path and fingerprints them; a read
// error is fingerprinted by its text, so the same failure is seen as no
// change.
func readFingerprinted(path string) ([]policySource, [sha256.Size]byte, error) {
	srcs, err := readPolicySources(path)
	if err != nil {
		return nil, sha256.Sum256([]byte("error\x00" + err.Error())), err
	}
	return srcs, fingerprint(srcs), nil
}

// isCurrent reports whether fp is what the store last tried to load.
func (s *PolicyStore) isCurrent(fp [sha256.Size]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fp == s.seen
}

// apply loads srcs, read with error readErr and fingerprinted fp, unless
// they are what was last tried.
func (s *PolicyStore) apply(srcs []policySource, fp [sha256.Size]byte, readErr error) (changed bool, err error) {
	s.mu.Lock()
	if fp == s.seen {
		err = s.lastErr
		s.mu.Unlock()
		return false, err
	}
	s.seen = fp
	var snap *policySnapshot
	if err = readErr; err == nil {
		snap, err = compilePolicies(srcs)
	}
	if err != nil {
		s.lastErr = err
		s.mu.Unlock()
		return true, err
	}
	snap.generation = s.current.Load().generation + 1
	s.current.Store(snap)
	s.lastErr = nil
	callbacks := slices.Clone(s.onReload)
	s.mu.Unlock()
	// Outside the lock, so a callback may call back into the store.
	for _, fn := range callbacks {
		fn(snap.generation)
	}
	return true, nil
}

// OnReload registers fn to run after each successful reload, with the new
// generation. Callbacks run on the reloading goroutine, in registration
// order; they should be quick.
func (s *PolicyStore) OnReload(fn func(generation uint64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onReload = append(s.onReload, fn)
}

// LastError returns why the most recent reload failed, or nil when the set
// in use is what the files say. While it is non-nil the service still
// authorizes with the previous set; readiness reports it as a warning.
func (s *PolicyStore) LastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Generation returns the number of successful loads so far, starting at 1.
// It changes exactly when the policy set does, which makes it a cache key
// component for decisions.
func (s *PolicyStore) Generation() uint64 { return s.current.Load().generation }

// Len returns the number of policies in the set in use.
func (s *PolicyStore) Len() int { return s.current.Load().count }

// snapshot returns the policy set in use.
func (s *PolicyStore) snapshot() *policySnapshot { return s.current.Load() }

// policySource is one policy file's name (as given or found) and text.
type policySource struct {
	name string
	data []byte
}

// readPolicySources reads path as a policy file, or the .cedar files of the
// directory path.
func readPolicySources(path string) ([]policySource, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("authz: policies: %w", err)
	}
	if !info.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("authz: policies: %w", err)
		}
		return []policySource{{name: path, data: data}}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("authz: policies: %w", err)
	}
	var srcs []policySource
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".cedar") {
			continue
		}
		file := filepath.Join(path, name)
		if fi, err := os.Stat(file); err != nil || !fi.Mode().IsRegular() {
			continue // a dangling link or a directory named *.cedar is not a policy file
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("authz: policies: %w", err)
		}
		srcs = append(srcs, policySource{name: file, data: data})
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("authz: policies: no .cedar files in directory %s", path)
	}
	return srcs, nil
}

// fingerprint hashes file names and contents. Contents, not modification
// times: a rewrite within the file system's timestamp granularity, or an
// atomic symlink swap, must still be noticed, and policy files are small.
func fingerprint(srcs []policySource) [sha256.Size]byte {
	h := sha256.New()
	for _, src := range srcs {
		fmt.Fprintf(h, "%d:%s%d:", len(src.name), src.name, len(src.data))
		h.Write(src.data)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// compilePolicies parses srcs into one policy set, naming each policy.
func compilePolicies(srcs []policySource) (*policySnapshot, error) {
	set := cedar.NewPolicySet()
	where := make(map[cedar.PolicyID]cedar.Position)
	for _, src := range srcs {
		list, err := cedar.NewPolicyListFromBytes(src.name, src.data)
		if err != nil {
			return nil, newParseError(src.name, err)
		}
		base := filepath.Base(src.name)
		for _, p := range list {
			pos := p.Position()
			id := cedar.PolicyID(fmt.Sprintf("%s:%d:%d", base, pos.Line, pos.Column))
			if ann, ok := p.Annotations()["id"]; ok {
				if ann == "" {
					return nil, &PolicyError{File: src.name, Line: pos.Line, Column: pos.Column, Msg: "empty @id annotation"}
				}
				id = cedar.PolicyID(ann)
			}
			if first, dup := where[id]; dup {
				return nil, &PolicyError{File: src.name, Line: pos.Line, Column: pos.Column,
					Msg: fmt.Sprintf("duplicate policy id %q (first at %s:%d:%d)", id, first.Filename, first.Line, first.Column)}
			}
			where[id] = pos
			set.Add(id, p)
		}
	}
	return &policySnapshot{set: set, count: len(where), context: contextUsageOf(set)}, nil
}

// PolicyError is a policy file that does not parse, or a policy that
// clashes with another. It names the file and, when known, the line and
// column, so an operator can go straight to the mistake.
type PolicyError struct {
	// File is the policy file's path.
	File string
	// Line and Column locate the error, both from 1; 0 when unknown.
	Line, Column int
	// Msg says what is wrong.
	Msg string
}

// Error returns "file:line:column: msg", or "file: msg" without a position.
func (e *PolicyError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("authz: policy %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("authz: policy %s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// newParseError turns cedar-go's parse error, which places itself at
// "<input>:line:col" whatever the file, into a PolicyError naming the file.
func newParseError(file string, err error) *PolicyError {
	pe := &PolicyError{File: file, Msg: err.Error()}
	if m := parsePositionRE.FindStringSubmatch(pe.Msg); m != nil {
		// The pattern admits digits only; Atoi fails only past int range.
		line, lerr := strconv.Atoi(m[1])
		col, cerr := strconv.Atoi(m[2])
		if lerr == nil && cerr == nil {
			pe.Line, pe.Column, pe.Msg = line, col, "syntax error: "+m[3]
		}
	}
	return pe
}

// parsePositionRE matches cedar-go's parse and scan errors, which read
// "parser error: parse error at <input>:L:C "tok": msg" or
// "parser error: <input>:L:C: msg".
var parsePositionRE = regexp.MustCompile(`(?s)^(?:parser error: )?(?:parse error at )?<input>:(\d+):(\d+):? ?(.*)$`)
