package api

import (
	"sync"
	"time"

	"github.com/cortexlayer/cortexctl/db/usage"
)

// KeyCacheTTL is how long POST /v1/usage trusts what it learnt of a key
// (its client and plan's rate limit) without asking the database. Whether
// the key is live and the client may be served is checked on every request
// by the statement that records.
const KeyCacheTTL = 30 * time.Second

// MaxCachedKeys bounds the cache; when full it starts over.
const MaxCachedKeys = 100_000

// keyCache maps a key's hash to its caller.
type keyCache struct {
	mu sync.Mutex
	m  map[[32]byte]cachedKey
}

type cachedKey struct {
	c  usage.Caller
	at time.Time
}

func toKey(hash []byte) (k [32]byte) { copy(k[:], hash); return k }

func (kc *keyCache) get(hash []byte) (usage.Caller, bool) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	e, ok := kc.m[toKey(hash)]
	if !ok || time.Since(e.at) > KeyCacheTTL {
		return usage.Caller{}, false
	}
	return e.c, true
}

func (kc *keyCache) put(hash []byte, c usage.Caller) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.m == nil || len(kc.m) >= MaxCachedKeys {
		kc.m = make(map[[32]byte]cachedKey)
	}
	kc.m[toKey(hash)] = cachedKey{c: c, at: time.Now()}
}

func (kc *keyCache) forget(hash []byte) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	delete(kc.m, toKey(hash))
}
