package verdict

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/openssl"
	"github.com/postfixtls/postfixtls/policy"
)

// X509Error is an OpenSSL X509_V_ERR_* verification error number (OpenSSL 3.0 numbering).
// Its Text method gives OpenSSL's text, LogLine the warning Postfix logs for it.
type X509Error = openssl.Errno

// OpenSSL X509_V_ERR_* numbers that chain verification reports.
const (
	X509Unspecified              = openssl.Unspecified
	X509UnableToGetIssuer        = openssl.UnableToGetIssuer
	X509SignatureFailure         = openssl.SignatureFailure
	X509NotYetValid              = openssl.NotYetValid
	X509Expired                  = openssl.Expired
	X509DepthZeroSelfSigned      = openssl.DepthZeroSelfSigned
	X509SelfSignedInChain        = openssl.SelfSignedInChain
	X509UnableToGetIssuerLocally = openssl.UnableToGetIssuerLocal
	X509UnableToVerifyLeaf       = openssl.UnableToVerifyLeaf
	X509ChainTooLong             = openssl.ChainTooLong
	X509PathLengthExceeded       = openssl.PathLengthExceeded
	X509InvalidPurpose           = openssl.InvalidPurpose
	X509HostnameMismatch         = openssl.HostnameMismatch
	X509IPMismatch               = openssl.IPMismatch
	X509DANENoMatch              = openssl.DANENoMatch
	X509InvalidCA                = openssl.InvalidCA
)

// ChainError is one error OpenSSL reports during verification: its number, text, the chain
// depth (0 is the leaf) and the certificate it concerns.
type ChainError struct {
	Num   X509Error `json:"num"`
	Text  string    `json:"text"`
	Depth int       `json:"depth"`
	// Subject and Issuer are the error certificate's DNs in OpenSSL's one-line form.
	Subject string `json:"subject,omitempty"`
	Issuer  string `json:"issuer,omitempty"`
	// Detail says what went wrong in plain words.
	Detail string `json:"detail,omitempty"`
	// stage orders errors as OpenSSL's verify_chain raises them.
	stage int
}

// Verification stages, in OpenSSL's order (verify_chain).
const (
	stageBuild = iota
	stageExtensions
	stageNames
	stageSignatures
)

// LogLine renders the line Postfix's tls_log_verify_error logs for this error (Postfix
// >= 3.6 wording), for the server "host[addr]:port".
func (e ChainError) LogLine(namaddrport string) string {
	return e.Num.LogLine(e.Depth, e.Issuer, namaddrport)
}

// ChainResult is the outcome of VerifyChain.
type ChainResult struct {
	// Trusted is true when the chain ends at a trust anchor of the store.
	Trusted bool `json:"trusted"`
	// OK is true when OpenSSL would report no error at all (names are checked separately).
	OK bool `json:"ok"`
	// Built lists the subjects of the chain OpenSSL builds, leaf first, and FromStore marks
	// the elements that came from the trust store rather than from the server.
	Built     []string `json:"built"`
	FromStore []bool   `json:"from_store"`
	// Errors are every error in the order OpenSSL raises them.
	Errors []ChainError `json:"errors,omitempty"`
	// Anchors is the number of trust anchors the store held.
	Anchors int `json:"anchors"`
	// Certs is the built chain itself, leaf first (not marshalled).
	Certs []*x509.Certificate `json:"-"`
}

// ChainOptions are what VerifyChain needs besides the chain.
type ChainOptions struct {
	// Roots are the trusted certificates (CAfile, CApath, and the system's with
	// tls_append_default_CA = yes).
	Roots []*x509.Certificate
	// Now is the verification time (zero: time.Now()).
	Now time.Time
	// MaxDepth is smtp_tls_scert_verifydepth (0: Postfix's default 9).
	MaxDepth int
	// Cache, when set, remembers signature checks across calls.
	Cache *SignatureCache
}

// SignatureCache remembers the outcome of certificate signature checks, so judging the same
// chain again (another address of the host, another policy or Postfix version) does not
// repeat the public-key operations, which dominate verification time. The zero value is
// ready; it is safe for concurrent use and holds at most 4096 results.
type SignatureCache struct {
	mu sync.Mutex
	m  map[[32]byte]bool
}

func (c *SignatureCache) check(child, issuer *x509.Certificate) error {
	verify := func() error {
		return issuer.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	}
	if c == nil {
		return verify()
	}
	h := sha256.New()
	h.Write(issuer.RawSubjectPublicKeyInfo)
	h.Write(child.Raw)
	var k [32]byte
	h.Sum(k[:0])
	c.mu.Lock()
	ok, hit := c.m[k]
	c.mu.Unlock()
	if hit {
		if ok {
			return nil
		}
		return errSignature
	}
	err := verify()
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 4096 {
		c.m = make(map[[32]byte]bool)
	}
	c.m[k] = err == nil
	c.mu.Unlock()
	return err
}

var errSignature = errors.New("signature does not verify (cached result)")

// VerifyChain verifies a chain as sent by a server (leaf first, order of the rest
// irrelevant) against the trust store, the way OpenSSL does for Postfix (see the package
// comment on chain.go for the differences from crypto/x509). Name checks are not part of
// it; Evaluate adds them at the position OpenSSL checks them.
func VerifyChain(sent []*x509.Certificate, opt ChainOptions) ChainResult {
	var res ChainResult
	res.Anchors = len(opt.Roots)
	if len(sent) == 0 || sent[0] == nil {
		return res
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	maxDepth := opt.MaxDepth
	if maxDepth <= 0 {
		maxDepth = 9
	}
	add := func(e ChainError, c *x509.Certificate) {
		if e.Text == "" {
			e.Text = e.Num.Text()
		}
		if c != nil {
			e.Subject = fingerprint.OneLine(c.RawSubject)
			e.Issuer = fingerprint.OneLine(c.RawIssuer)
		}
		res.Errors = append(res.Errors, e)
	}

	// build_chain, trusted first.
	leaf := sent[0]
	chain := []*x509.Certificate{leaf}
	fromStore := []bool{false}
	pool := make([]*x509.Certificate, 0, len(sent))
	for _, c := range sent[1:] {
		if c != nil {
			pool = append(pool, c)
		}
	}
	inChain := func(c *x509.Certificate) bool {
		for _, x := range chain {
			if bytes.Equal(x.Raw, c.Raw) {
				return true
			}
		}
		return false
	}
	storeMode := false
	for len(chain) <= maxDepth+1 {
		cur := chain[len(chain)-1]
		if openssl.SelfIssued(cur) {
			break
		}
		if iss := findIssuer(cur, opt.Roots, now, inChain); iss != nil {
			chain = append(chain, iss)
			fromStore = append(fromStore, true)
			storeMode = true
			continue
		}
		if storeMode {
			break
		}
		if iss := findIssuer(cur, pool, now, inChain); iss != nil {
			chain = append(chain, iss)
			fromStore = append(fromStore, false)
			continue
		}
		break
	}
	top := len(chain) - 1
	topCert := chain[top]
	topSelf := openssl.SelfIssued(topCert)
	if topSelf && !fromStore[top] && inStore(topCert, opt.Roots) {
		fromStore[top] = true
	}
	res.Certs = chain
	res.FromStore = fromStore
	for _, c := range chain {
		res.Built = append(res.Built, fingerprint.OneLine(c.RawSubject))
	}
	switch {
	case len(chain) > maxDepth+1:
		add(ChainError{Num: X509ChainTooLong, Depth: top, stage: stageBuild,
			Detail: fmt.Sprintf("the chain has more than %d certificates", maxDepth+1)}, topCert)
	case fromStore[top] && topSelf:
		res.Trusted = true
	case fromStore[top]:
		add(ChainError{Num: X509UnableToGetIssuer, Depth: top, stage: stageBuild,
			Detail: "the trusted certificate " + fingerprint.OneLine(topCert.RawSubject) +
				" is not self-signed and its issuer is not trusted (OpenSSL does not accept partial chains here)"}, topCert)
	case topSelf && len(chain) == 1:
		add(ChainError{Num: X509DepthZeroSelfSigned, Depth: 0, stage: stageBuild,
			Detail: "the server's certificate is self-signed and not in the trusted CAs"}, topCert)
	case topSelf:
		add(ChainError{Num: X509SelfSignedInChain, Depth: top, stage: stageBuild,
			Detail: "the chain ends at the self-signed " + fingerprint.OneLine(topCert.RawSubject) + ", which is not a trusted CA"}, topCert)
	default:
		add(ChainError{Num: X509UnableToGetIssuerLocally, Depth: top, stage: stageBuild,
			Detail: "the issuer " + fingerprint.OneLine(topCert.RawIssuer) + " was neither sent by the server nor found in the trusted CAs"}, topCert)
	}

	// check_chain_extensions.
	plen := 0
	for i, c := range chain {
		if i > 0 {
			if !openssl.IsCA(c, i == len(chain)-1) {
				add(ChainError{Num: X509InvalidCA, Depth: i, stage: stageExtensions,
					Detail: fingerprint.OneLine(c.RawSubject) + " is not a CA certificate"}, c)
			}
			if !openssl.ServerPurpose(c, true) {
				add(ChainError{Num: X509InvalidPurpose, Depth: i, stage: stageExtensions,
					Detail: "the CA's extended key usage does not include serverAuth"}, c)
			}
			if i > 1 && c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) && plen > c.MaxPathLen {
				add(ChainError{Num: X509PathLengthExceeded, Depth: i, stage: stageExtensions}, c)
			}
		} else if !openssl.ServerPurpose(c, false) {
			add(ChainError{Num: X509InvalidPurpose, Depth: 0, stage: stageExtensions,
				Detail: "the certificate's key usage or extended key usage excludes TLS server use"}, c)
		}
		if i > 0 && !openssl.SelfIssued(c) {
			plen++
		}
	}

	// internal_verify: signatures and dates, from the top down.
	n := top
	xi := chain[n]
	var xs *x509.Certificate
	checkTimeOnly := false
	if openssl.SelfIssued(xi) {
		xs = xi
	} else if n == 0 {
		add(ChainError{Num: X509UnableToVerifyLeaf, Depth: 0, stage: stageSignatures}, xi)
		xs = xi
		checkTimeOnly = true
	} else {
		n--
		xs = chain[n]
	}
	for n >= 0 {
		if !checkTimeOnly && xs != xi {
			if err := opt.Cache.check(xs, xi); err != nil {
				add(ChainError{Num: X509SignatureFailure, Depth: n, stage: stageSignatures, Detail: err.Error()}, xs)
			}
		}
		checkTimeOnly = false
		if now.Before(xs.NotBefore) {
			add(ChainError{Num: X509NotYetValid, Depth: n, stage: stageSignatures,
				Detail: "valid from " + xs.NotBefore.UTC().Format(time.RFC3339)}, xs)
		} else if now.After(xs.NotAfter) {
			add(ChainError{Num: X509Expired, Depth: n, stage: stageSignatures,
				Detail: "expired at " + xs.NotAfter.UTC().Format(time.RFC3339)}, xs)
		}
		n--
		if n >= 0 {
			xi = xs
			xs = chain[n]
		}
	}
	res.OK = len(res.Errors) == 0
	return res
}

// finalError picks the error Postfix reports: the one at the lowest depth, the first one
// raised at that depth (update_error_state), after merging the name-check error at its
// place in OpenSSL's order.
func finalError(errs []ChainError) *ChainError {
	sorted := append([]ChainError(nil), errs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].stage < sorted[j].stage })
	var best *ChainError
	for i := range sorted {
		if best == nil || sorted[i].Depth < best.Depth {
			best = &sorted[i]
		}
	}
	return best
}

func findIssuer(c *x509.Certificate, cands []*x509.Certificate, now time.Time, used func(*x509.Certificate) bool) *x509.Certificate {
	return openssl.FindIssuer(c, now, func(x *x509.Certificate) bool {
		return !used(x) && (x.KeyUsage == 0 || x.KeyUsage&x509.KeyUsageCertSign != 0)
	}, cands)
}

func inStore(c *x509.Certificate, roots []*x509.Certificate) bool {
	for _, r := range roots {
		if r != nil && bytes.Equal(r.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// Trust is the trust material a policy names, loaded: the CAs of smtp_tls_CAfile and
// smtp_tls_CApath (plus the system's with tls_append_default_CA = yes) and the trust-anchor
// files of tafile= / smtp_tls_trust_anchor_file.
type Trust struct {
	// CAs are the trusted certificates for verify and secure (and for the Trusted log word
	// at may and encrypt).
	CAs []*x509.Certificate
	// TrustAnchors are the loaded trust-anchor files, keyed by file name as the policy
	// names them.
	TrustAnchors map[string]*dane.TrustAnchors
	// Notes say what was read and what was skipped (CApath files OpenSSL never looks at).
	Notes []string
	// UnhashedCAPathFiles counts the files of smtp_tls_CApath that are not named like
	// OpenSSL's hash links ("1a2b3c4d.0"): OpenSSL never opens them.
	UnhashedCAPathFiles int
}

// ErrCAFile is wrapped when smtp_tls_CAfile cannot be loaded (a CApath is only searched
// later and never fails the engine): Postfix
// then logs "cannot load Certification Authority data" and disables TLS ("TLS is required,
// but our TLS engine is unavailable").
var ErrCAFile = errors.New("cannot load Certification Authority data")

var hashName = regexp.MustCompile(`^[0-9a-f]{8}\.[0-9]+$`)

// IsCAPathHashName reports whether name is named like OpenSSL's hash links
// ("1a2b3c4d.0"), the only files of a CApath OpenSSL opens.
func IsCAPathHashName(name string) bool { return hashName.MatchString(name) }

// LoadTrust reads the files a policy names from fsys (paths are taken relative to fsys's
// root, without a leading "/"): the CAfile (every certificate), the CApath (only files
// named like OpenSSL's hash links "1a2b3c4d.0", which are all OpenSSL ever opens), the
// trust-anchor files, and, when p.AppendDefaultCA is set and a CAfile or CApath is
// configured, system (the system roots, given by the caller). A CAfile problem is an error
// wrapping ErrCAFile, as Postfix disables TLS for it; an unreadable CApath only adds a note
// (OpenSSL searches it at verification time and finds nothing); a trust-anchor file problem
// is recorded for Evaluate to report.
func LoadTrust(ctx context.Context, fsys fs.FS, p policy.Policy, system []*x509.Certificate) (*Trust, error) {
	t := &Trust{TrustAnchors: map[string]*dane.TrustAnchors{}}
	rel := func(name string) string {
		for len(name) > 0 && name[0] == '/' {
			name = name[1:]
		}
		if name == "" {
			return "."
		}
		// fs.FS takes clean names only: "/etc/ssl/certs/" (a common CApath) is "etc/ssl/certs".
		return path.Clean(name)
	}
	if p.CAFile != "" {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := fsys.Open(rel(p.CAFile))
		if err != nil {
			return nil, fmt.Errorf("%w, CAfile=%q: %w", ErrCAFile, p.CAFile, err)
		}
		certs, err := ReadPEMChain(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w, CAfile=%q: %w", ErrCAFile, p.CAFile, err)
		}
		t.CAs = append(t.CAs, certs...)
		t.Notes = append(t.Notes, fmt.Sprintf("smtp_tls_CAfile %s: %d certificates", p.CAFile, len(certs)))
	}
	if p.CAPath != "" {
		dir := rel(p.CAPath)
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			// SSL_CTX_load_verify_locations() only records a directory; OpenSSL searches it
			// when it verifies a chain. A missing one stops nothing: TLS starts and every
			// chain lacks its issuer (real Postfix 3.7.11: conformance table/capath-missing).
			t.Notes = append(t.Notes, fmt.Sprintf("smtp_tls_CApath %s cannot be read (%v): OpenSSL finds no CA there, so no chain is trusted through it", p.CAPath, err))
			ents = nil
		}
		n, skipped := 0, 0
		for _, e := range ents {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if !hashName.MatchString(e.Name()) {
				skipped++
				continue
			}
			data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			certs, _, err := parsePEMCerts(data)
			if err != nil {
				continue
			}
			t.CAs = append(t.CAs, certs...)
			n += len(certs)
		}
		if err == nil {
			t.Notes = append(t.Notes, fmt.Sprintf("smtp_tls_CApath %s: %d certificates from hash-named files", p.CAPath, n))
		}
		t.UnhashedCAPathFiles = skipped
		if skipped > 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("smtp_tls_CApath %s: %d files not named like OpenSSL hash links (run c_rehash/openssl rehash); OpenSSL never reads them", p.CAPath, skipped))
		}
	}
	if p.AppendDefaultCA && (p.CAFile != "" || p.CAPath != "") {
		// tls_append_default_CA matters only when a CAfile or CApath is configured.
		t.CAs = append(t.CAs, system...)
		t.Notes = append(t.Notes, fmt.Sprintf("tls_append_default_CA = yes: %d system CAs added", len(system)))
	}
	for _, name := range p.TrustAnchorFiles {
		ta, err := dane.LoadTrustAnchorFile(ctx, fsys, rel(name))
		if err != nil {
			t.Notes = append(t.Notes, err.Error())
			continue
		}
		t.TrustAnchors[name] = ta
	}
	return t, nil
}
