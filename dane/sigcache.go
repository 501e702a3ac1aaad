package dane

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// SigCache remembers certificate signature checks, so that judging the same presented chain
// again (another address of the same host, another Postfix version or policy) does not repeat
// the public-key operations, which dominate DANE-TA verification time. The zero value is ready
// to use and safe for concurrent use; it holds at most 4096 results.
type SigCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]bool
}

const sigCacheMax = 4096

// check verifies that c is signed by the key in spki (the DER SubjectPublicKeyInfo of pub).
func (sc *SigCache) check(c *x509.Certificate, spki []byte, verify func() error) bool {
	if sc == nil {
		return verify() == nil
	}
	h := sha256.New()
	h.Write(c.Raw)
	h.Write(spki)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	sc.mu.Lock()
	ok, hit := sc.m[k]
	sc.mu.Unlock()
	if hit {
		return ok
	}
	ok = verify() == nil
	sc.mu.Lock()
	if sc.m == nil || len(sc.m) >= sigCacheMax {
		sc.m = make(map[[sha256.Size]byte]bool)
	}
	sc.m[k] = ok
	sc.mu.Unlock()
	return ok
}
