package authz

import (
	"container/list"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"sync"
)

// DefaultDecisionCacheSize is the number of decisions an Authorizer keeps
// by default (DefaultAuthorizerConfig): a few MiB, enough for the working
// set of principals × routes of a busy service.
const DefaultDecisionCacheSize = 10_000

// decisionCache is a bounded least-recently-used map from decision keys to
// decisions. Keys start with the policy generation, so a decision made under
// an old policy set can never answer for a new one; the store's OnReload
// callback also purges the cache so the old entries do not linger.
type decisionCache struct {
	mu    sync.Mutex
	max   int
	items map[string]*list.Element // of *cachedDecision
	order list.List                // front = most recently used
}

type cachedDecision struct {
	key      string
	decision Decision
}

func newDecisionCache(size int) *decisionCache {
	c := &decisionCache{max: size, items: make(map[string]*list.Element)}
	c.order.Init()
	return c
}

// get returns the decision stored under key.
func (c *decisionCache) get(key []byte) (Decision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[string(key)]
	if !ok {
		return Decision{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cachedDecision).decision, true
}

// put stores d under key, evicting the least recently used decision when
// the cache is full.
func (c *decisionCache) put(key []byte, d Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[string(key)]; ok {
		el.Value.(*cachedDecision).decision = d
		c.order.MoveToFront(el)
		return
	}
	if c.order.Len() >= c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*cachedDecision).key)
	}
	k := string(key)
	c.items[k] = c.order.PushFront(&cachedDecision{key: k, decision: d})
}

// purge drops every decision.
func (c *decisionCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
	c.order.Init()
}

// len returns the number of decisions held.
func (c *decisionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// appendDecisionKey appends to b an encoding of everything a decision
// depends on, given that no EntityProvider data was involved: the policy
// generation, the whole principal entity (UID, roles, scopes and the claims
// PrincipalEntity includes), the action, the resource, and the context
// attributes the policies read. Every variable-length part is length-
// prefixed, so distinct requests cannot share a key.
func appendDecisionKey(b []byte, generation uint64, req *Request, used contextUsage) []byte {
	b = binary.AppendUvarint(b, generation)
	p := req.Principal
	b = appendString(b, string(p.Kind))
	b = appendString(b, p.Subject)
	b = appendStrings(b, p.Roles)
	b = appendStrings(b, p.Scopes)
	b = appendClaims(b, p.Claims)
	b = appendString(b, req.Action)
	b = appendString(b, string(req.Resource.Type))
	b = appendString(b, string(req.Resource.ID))
	rc := &req.Context
	if used&usesIP != 0 {
		ip := rc.IP.WithZone("")
		b = append(b, byte(ip.BitLen()))
		b = append(b, ip.AsSlice()...)
	}
	if used&usesAPIVersion != 0 {
		b = appendString(b, rc.APIVersion)
	}
	if used&usesMethod != 0 {
		b = appendString(b, rc.Method)
	}
	if used&usesPath != 0 {
		b = appendString(b, rc.Path)
	}
	return b
}

// appendClaims appends the claims claimValue admits, in name order, each
// tagged with its type; a final 'e' ends the list.
func appendClaims(b []byte, claims map[string]any) []byte {
	var stack [16]string
	names := stack[:0]
	for name := range claims {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		mark := len(b)
		b = append(b, 'c')
		b = appendString(b, name)
		var ok bool
		if b, ok = appendClaim(b, claims[name]); !ok {
			b = b[:mark] // left out of the entity, so out of the key
		}
	}
	return append(b, 'e')
}

// appendClaim encodes v when claimValue would include it.
func appendClaim(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return appendString(append(b, 's'), v), true
	case bool:
		if v {
			return append(b, 't'), true
		}
		return append(b, 'f'), true
	case float64:
		if !representable(v) {
			return b, false
		}
		return binary.BigEndian.AppendUint64(append(b, 'd'), math.Float64bits(v)), true
	case json.Number:
		if _, ok := claimValue(v); !ok {
			return b, false
		}
		return appendString(append(b, 'n'), string(v)), true
	case int:
		return binary.AppendVarint(append(b, 'i'), int64(v)), true
	case int64:
		return binary.AppendVarint(append(b, 'i'), v), true
	case []string:
		return appendStrings(append(b, 'a'), v), true
	case []any:
		b = binary.AppendUvarint(append(b, 'a'), uint64(len(v)))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return b, false
			}
			b = appendString(b, s)
		}
		return b, true
	}
	return b, false
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}
