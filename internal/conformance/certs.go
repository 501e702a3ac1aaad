package conformance

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

// leafSpec describes one standard leaf certificate of the suite's private PKI.
type leafSpec struct {
	name   string
	issuer string // "inter", "root", "other" or "self"
	spec   pki.Spec
}

// Certs is the suite's private PKI written to a directory: for every certificate NAME the
// files NAME.crt (the certificate), NAME.key, NAME.chain.pem (leaf + intermediate) and
// NAME.full.pem (leaf + intermediate + root), and the CA files rootca.pem, cafile-inter.pem
// and cafile-root+inter.pem.
type Certs struct {
	// Dir is the directory holding the PEM files.
	Dir   string
	certs map[string]*pki.Cert
}

// NewCerts makes the private PKI in dir: a root "rootca", an intermediate "inter", an
// unrelated root "otherca" and the standard leaves (see the package documentation).
// now fixes the validity windows of the expired and not-yet-valid leaves.
func NewCerts(dir string, now time.Time) (*Certs, error) {
	h, err := pki.NewHierarchy()
	if err != nil {
		return nil, fmt.Errorf("conformance: PKI: %w", err)
	}
	// crossroot is a cross-signed copy of the root: its subject and key, issued by the other
	// root (as a CA that moved to a new root sends it for older clients).
	cross, err := pki.New(pki.Spec{CN: []string{"Test Root CA"}, Org: "postfixtls tests", CA: true, Signer: h.Root.Key,
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.AddDate(5, 0, 0)}, h.Other)
	if err != nil {
		return nil, fmt.Errorf("conformance: PKI: %w", err)
	}
	c := &Certs{Dir: dir, certs: map[string]*pki.Cert{"rootca": h.Root, "inter": h.Inter, "otherca": h.Other, "crossroot": cross}}
	dns := func(cn string, sans ...string) pki.Spec {
		s := pki.Spec{DNS: sans}
		if cn != "" {
			s.CN = []string{cn}
		}
		return s
	}
	expired := dns("mx.example.test", "mx.example.test")
	expired.NotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	expired.NotAfter = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	notyet := dns("mx.example.test", "mx.example.test")
	notyet.NotBefore = now.AddDate(1, 0, 0)
	notyet.NotAfter = now.AddDate(3, 0, 0)
	leaves := []leafSpec{
		{"messagingengine", "inter", dns("*.messagingengine.test", "*.messagingengine.test", "messagingengine.test")},
		{"mx-example", "inter", dns("mx.example.test", "mx.example.test")},
		{"mx-example-dom", "inter", dns("mx.example.test", "mx.example.test", "example.test")},
		{"wild-example", "inter", dns("*.example.test", "*.example.test")},
		{"cn-only", "inter", dns("mx.example.test")},
		{"cn-only-wild", "inter", dns("*.example.test")},
		{"no-names", "inter", dns("")},
		{"other-name", "inter", dns("mx.other.test", "mx.other.test")},
		{"expired", "inter", expired},
		{"notyet", "inter", notyet},
		{"selfsigned", "self", dns("mx.example.test", "mx.example.test")},
		{"wrongca", "other", dns("mx.example.test", "mx.example.test")},
		{"direct-root", "root", dns("mx.example.test", "mx.example.test")},
		{"mail-example", "inter", dns("mail.example.test", "mail.example.test", "smtp.example.test")},
		{"deep-wild", "inter", dns("*.mx.example.test", "*.mx.example.test")},
		{"sub-wild", "inter", dns("*.sub.example.test", "*.sub.example.test")},
		{"cn-mismatch-san", "inter", dns("mx.example.test", "other.example.test")},
		{"upper-san", "inter", dns("MX.EXAMPLE.TEST", "MX.EXAMPLE.TEST")},
		{"insecure-mx", "inter", dns("mx.insecure.test", "mx.insecure.test")},
		{"idn-mx", "inter", dns("mx.xn--bcher-kva.test", "mx.xn--bcher-kva.test")},
		// The HTTPS server of MTA-STS cases (mta-sts.example.test publishes the policy).
		{"mta-sts-example", "inter", dns("mta-sts.example.test", "mta-sts.example.test")},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	for _, l := range leaves {
		var iss *pki.Cert
		switch l.issuer {
		case "inter":
			iss = h.Inter
		case "root":
			iss = h.Root
		case "other":
			iss = h.Other
		}
		cert, err := pki.New(l.spec, iss)
		if err != nil {
			return nil, fmt.Errorf("conformance: leaf %s: %w", l.name, err)
		}
		c.certs[l.name] = cert
		var chain, full, crossed []*pki.Cert
		switch l.issuer {
		case "inter":
			chain = []*pki.Cert{cert, h.Inter}
			full = []*pki.Cert{cert, h.Inter, h.Root}
			crossed = []*pki.Cert{cert, h.Inter, cross}
		case "root":
			chain = []*pki.Cert{cert}
			full = []*pki.Cert{cert, h.Root}
		case "other":
			chain = []*pki.Cert{cert}
			full = []*pki.Cert{cert, h.Other}
		default:
			chain = []*pki.Cert{cert}
			full = chain
		}
		files := map[string][]byte{
			l.name + ".crt":       cert.PEM(),
			l.name + ".key":       cert.KeyPEM(),
			l.name + ".chain.pem": pki.ChainPEM(chain...),
			l.name + ".full.pem":  pki.ChainPEM(full...),
		}
		if crossed != nil {
			files[l.name+".cross.pem"] = pki.ChainPEM(crossed...)
		}
		if err := writeFiles(dir, files); err != nil {
			return nil, err
		}
	}
	files := map[string][]byte{
		"rootca.pem":            h.Root.PEM(),
		"otherca.pem":           h.Other.PEM(),
		"cafile-inter.pem":      h.Inter.PEM(),
		"cafile-root+inter.pem": pki.ChainPEM(h.Root, h.Inter),
		"cafile-both-roots.pem": pki.ChainPEM(h.Root, h.Other),
	}
	if err := writeFiles(dir, files); err != nil {
		return nil, err
	}
	return c, nil
}

func writeFiles(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return fmt.Errorf("conformance: %w", err)
		}
	}
	return nil
}

// Path is the absolute path of a file in the certificate directory.
func (c *Certs) Path(file string) string { return filepath.Join(c.Dir, file) }

func (c *Certs) get(name string) *pki.Cert {
	if x, ok := c.certs[name]; ok {
		return x
	}
	// A case naming an unknown certificate is a bug in the case list; an empty digest makes
	// it fail visibly rather than panic.
	return &pki.Cert{}
}

func newHash(alg string) hash.Hash {
	switch alg {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha512":
		return sha512.New()
	default:
		return sha256.New()
	}
}

func digest(alg string, b []byte) []byte {
	h := newHash(alg)
	h.Write(b)
	return h.Sum(nil)
}

// colonHex writes a digest the way Postfix logs fingerprints: upper-case hex pairs joined
// by colons.
func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

// FP is the Postfix certificate fingerprint (digest of the DER certificate) of name.
func (c *Certs) FP(name, alg string) string { return colonHex(digest(alg, c.get(name).DER)) }

// PKFP is the Postfix public-key fingerprint (digest of the DER SubjectPublicKeyInfo).
func (c *Certs) PKFP(name, alg string) string {
	x := c.get(name)
	if x.Cert == nil {
		return ""
	}
	return colonHex(digest(alg, x.SPKI()))
}

// TLSA is the hex association data of a TLSA record with the given selector (0 certificate,
// 1 public key) and matching type (0 full, 1 SHA-256, 2 SHA-512) for name.
func (c *Certs) TLSA(name string, selector, mtype int) string {
	x := c.get(name)
	data := x.DER
	if selector == 1 && x.Cert != nil {
		data = x.SPKI()
	}
	switch mtype {
	case 1:
		data = digest("sha256", data)
	case 2:
		data = digest("sha512", data)
	}
	return strings.ToUpper(hex.EncodeToString(data))
}
