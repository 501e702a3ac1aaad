package fingerprint

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"hash"
	"strconv"
	"strings"
)

// ErrUnknownDigest is the sentinel for a digest name that OpenSSL (as Postfix uses it)
// would not find. Errors returned for it are *DigestError.
var ErrUnknownDigest = errors.New("unknown digest algorithm")

// DigestError reports an unknown smtp_tls_fingerprint_digest value.
type DigestError struct {
	// Name is the digest name as given.
	Name string
}

// Error returns Postfix's text: `Digest algorithm "<name>" not found` (after which Postfix
// disables TLS support).
func (e *DigestError) Error() string { return "Digest algorithm \"" + e.Name + "\" not found" }

// Is makes errors.Is(err, ErrUnknownDigest) true.
func (e *DigestError) Is(target error) bool { return target == ErrUnknownDigest }

type digestInfo struct {
	name string
	size int
	new  func() hash.Hash
}

// lookupDigest finds a digest by the names OpenSSL's EVP_get_digestbyname accepts for it
// (case-insensitively here).
func lookupDigest(name string) (digestInfo, bool) {
	switch strings.ToLower(name) {
	case "md5":
		return digestInfo{"md5", md5.Size, md5.New}, true
	case "sha1", "sha-1":
		return digestInfo{"sha1", sha1.Size, sha1.New}, true
	case "sha224", "sha-224", "sha2-224":
		return digestInfo{"sha224", sha256.Size224, sha256.New224}, true
	case "sha256", "sha-256", "sha2-256":
		return digestInfo{"sha256", sha256.Size, sha256.New}, true
	case "sha384", "sha-384", "sha2-384":
		return digestInfo{"sha384", sha512.Size384, sha512.New384}, true
	case "sha512", "sha-512", "sha2-512":
		return digestInfo{"sha512", sha512.Size, sha512.New}, true
	case "sha512-224", "sha-512/224", "sha2-512/224":
		return digestInfo{"sha512-224", sha512.Size224, sha512.New512_224}, true
	case "sha512-256", "sha-512/256", "sha2-512/256":
		return digestInfo{"sha512-256", sha512.Size256, sha512.New512_256}, true
	case "sha3-224":
		return digestInfo{"sha3-224", 28, func() hash.Hash { return sha3.New224() }}, true
	case "sha3-256":
		return digestInfo{"sha3-256", 32, func() hash.Hash { return sha3.New256() }}, true
	case "sha3-384":
		return digestInfo{"sha3-384", 48, func() hash.Hash { return sha3.New384() }}, true
	case "sha3-512":
		return digestInfo{"sha3-512", 64, func() hash.Hash { return sha3.New512() }}, true
	}
	return digestInfo{}, false
}

// Digests returns the digest names a fingerprint is commonly computed with, in the order
// reports list them: md5, sha1, sha224, sha256, sha384, sha512.
func Digests() []string {
	return []string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}
}

// CanonicalDigest returns the canonical lower-case name of a digest Postfix accepts for
// smtp_tls_fingerprint_digest ("SHA256" -> "sha256"), or a *DigestError.
func CanonicalDigest(name string) (string, error) {
	d, ok := lookupDigest(name)
	if !ok {
		return "", &DigestError{Name: name}
	}
	return d.name, nil
}

// DigestSize returns the digest's output length in bytes, or a *DigestError.
func DigestSize(name string) (int, error) {
	d, ok := lookupDigest(name)
	if !ok {
		return 0, &DigestError{Name: name}
	}
	return d.size, nil
}

// Fingerprints are the certificate and public-key digests of one certificate.
type Fingerprints struct {
	// Digest is the canonical digest name ("sha256").
	Digest string
	// Cert is the digest of the certificate's DER encoding (TLSA selector 0).
	Cert []byte
	// PublicKey is the digest of the DER SubjectPublicKeyInfo (TLSA selector 1).
	PublicKey []byte
}

// CertString is the certificate fingerprint as Postfix prints it ("AB:CD:...").
func (f Fingerprints) CertString() string { return Format(f.Cert) }

// PublicKeyString is the public-key fingerprint as Postfix prints it ("AB:CD:...").
func (f Fingerprints) PublicKeyString() string { return Format(f.PublicKey) }

// Compute returns the certificate and public-key fingerprints under the named digest.
func Compute(cert *x509.Certificate, digest string) (Fingerprints, error) {
	d, ok := lookupDigest(digest)
	if !ok {
		return Fingerprints{}, &DigestError{Name: digest}
	}
	if cert == nil {
		return Fingerprints{}, errors.New("fingerprint: no certificate")
	}
	return Fingerprints{Digest: d.name, Cert: sum(d, cert.Raw), PublicKey: sum(d, cert.RawSubjectPublicKeyInfo)}, nil
}

// ComputeAll returns the fingerprints under every digest of Digests(), in that order.
func ComputeAll(cert *x509.Certificate) []Fingerprints {
	if cert == nil {
		return nil
	}
	out := make([]Fingerprints, 0, 6)
	for _, name := range Digests() {
		f, err := Compute(cert, name)
		if err == nil {
			out = append(out, f)
		}
	}
	return out
}

// sum digests data; the common digests use the one-shot functions (no hash object).
func sum(d digestInfo, data []byte) []byte {
	switch d.name {
	case "md5":
		s := md5.Sum(data)
		return s[:]
	case "sha1":
		s := sha1.Sum(data)
		return s[:]
	case "sha224":
		s := sha256.Sum224(data)
		return s[:]
	case "sha256":
		s := sha256.Sum256(data)
		return s[:]
	case "sha384":
		s := sha512.Sum384(data)
		return s[:]
	case "sha512":
		s := sha512.Sum512(data)
		return s[:]
	}
	h := d.new()
	h.Write(data)
	return h.Sum(make([]byte, 0, d.size))
}

const hexUpper = "0123456789ABCDEF"

// Format renders bytes as Postfix's tls_digest_encode() does: upper-case hex pairs
// separated by colons ("AB:CD:EF").
func Format(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	out := make([]byte, 0, len(b)*3-1)
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hexUpper[c>>4], hexUpper[c&0xf])
	}
	return string(out)
}

// hexPlain renders bytes as Postfix's hex_encode(): upper-case, no separators.
func hexPlain(b []byte) string {
	out := make([]byte, 0, len(b)*2)
	for _, c := range b {
		out = append(out, hexUpper[c>>4], hexUpper[c&0xf])
	}
	return string(out)
}

// SizeMismatch is a pinned value whose length does not fit the digest Postfix compares: at
// handshake time Postfix logs "unusable TLSA RR" for it and it can never match.
type SizeMismatch struct {
	// Bytes is the value's length, Want the digest's (both in bytes); Digest is the digest
	// compared, canonical ("sha256").
	Bytes, Want int
	Digest      string
	// LooksLike names the digest whose length the value has ("SHA-1"), or is empty.
	LooksLike string
}

// CheckSize reports whether a pinned value (hex, colons or not) does not fit digest. It
// returns false for values that are not hex (another rule reports them) and for unknown
// digests.
func CheckSize(value, digest string) (SizeMismatch, bool) {
	d, ok := lookupDigest(digest)
	if !ok {
		return SizeMismatch{}, false
	}
	b, ok := DecodeHex(value)
	if !ok || len(b) == 0 || len(b) == d.size {
		return SizeMismatch{}, false
	}
	m := SizeMismatch{Bytes: len(b), Want: d.size, Digest: d.name}
	for _, name := range Digests() {
		if n, _ := DigestSize(name); n == len(b) {
			m.LooksLike = DisplayName(name)
			break
		}
	}
	return m, true
}

// String says it in one sentence: "a 20-byte value (the length of a SHA-1 digest), but
// Postfix compares SHA-256 digests (32 bytes): it can never match".
func (m SizeMismatch) String() string {
	s := "a " + strconv.Itoa(m.Bytes) + "-byte value"
	if m.LooksLike != "" {
		s += " (the length of " + m.LooksLikeWithArticle() + " digest)"
	}
	return s + ", but Postfix compares " + DisplayName(m.Digest) + " digests (" + strconv.Itoa(m.Want) + " bytes): it can never match"
}

// LooksLikeWithArticle is LooksLike with its article ("a SHA-1", "an MD5"), "" when the
// length fits no digest.
func (m SizeMismatch) LooksLikeWithArticle() string {
	if m.LooksLike == "" {
		return ""
	}
	return article(m.LooksLike) + m.LooksLike
}

// article is "an " before a name read with a vowel sound (MD5), else "a ".
func article(name string) string {
	if strings.HasPrefix(name, "MD") {
		return "an "
	}
	return "a "
}
