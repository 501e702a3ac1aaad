package fingerprint

import (
	"bytes"
	"crypto/x509"
	"strconv"
	"strings"
)

// OpenSSL verification errors of the fingerprint level, as Postfix logs them after
// "server certificate verification failed for <namaddrport>: ".
const (
	ErrNoMatch     = "num=65:no matching DANE TLSA records"
	ErrUnspecified = "num=1:unspecified certificate verification error"
)

// Kind says which digest of the certificate a value is compared with.
type Kind int

const (
	// Certificate is the digest of the whole DER certificate (private TLSA "3 0 255").
	Certificate Kind = iota
	// PublicKey is the digest of the DER SubjectPublicKeyInfo (private TLSA "3 1 255").
	PublicKey
)

// String returns "certificate" or "public key".
func (k Kind) String() string {
	if k == PublicKey {
		return "public key"
	}
	return "certificate"
}

// Identification says what a fingerprint value is, if anything, for one certificate.
type Identification struct {
	// Value is the value as configured.
	Value string
	// Found is set when the value equals one of the certificate's digests.
	Found bool
	// Digest is the canonical digest name and Kind the digested object, when Found.
	Digest string
	Kind   Kind // certificate or public key
	// Why describes the value in words.
	Why string
}

// Result is the outcome of matching a leaf certificate against a fingerprint list.
type Result struct {
	// Matched is true when a value equals the certificate or public-key digest.
	Matched bool
	// MatchedValue is the value that matched and MatchedKind what it matched.
	MatchedValue string
	MatchedKind  Kind // certificate or public key
	// Warnings are Postfix's handshake-time warnings, in Postfix's order:
	// "{namaddr}: unusable TLSA RR: 3 1 255 <HEX>" (and 3 0 255) for each value of the
	// wrong length, and "{namaddr}: all fingerprints unusable".
	Warnings []Warning
	// Unusable lists the values whose length differs from the digest's.
	Unusable []string
	// AllUnusable is set when no value could be loaded: verification fails with
	// ErrUnspecified.
	AllUnusable bool
	// Error is the verification error Postfix >= 3.6 logs (ErrNoMatch, ErrUnspecified),
	// empty on success and for Postfix <= 3.5.
	Error string
	// Fingerprints are the leaf's digests under the configured digest.
	Fingerprints Fingerprints
	// All holds, on a mismatch, the leaf's fingerprints under every digest of Digests().
	All []Fingerprints
	// Identified holds, on a mismatch, what each usable or unusable value is, if anything.
	Identified []Identification

	colons, pkeyOnly bool
}

// Check compares the leaf certificate with the list as Postfix's fingerprint level does:
// only the leaf, both its certificate and public-key digests, no expiry, no names.
func Check(leaf *x509.Certificate, list List) Result {
	r := Result{colons: list.ColonsOptional, pkeyOnly: list.PublicKeyOnly}
	if leaf == nil {
		r.Error = ErrUnspecified
		return r
	}
	dig := list.Digest
	if dig == "" {
		dig = "sha256"
	}
	fp, err := Compute(leaf, dig)
	if err != nil {
		r.Error = ErrUnspecified
		return r
	}
	r.Fingerprints = fp
	if list.ColonsOptional {
		checkTLSA(&r, list)
	} else {
		certS, pkeyS := fp.CertString(), fp.PublicKeyString()
		for _, v := range list.Values {
			if !list.PublicKeyOnly && strings.EqualFold(v.Text, certS) {
				r.Matched, r.MatchedValue, r.MatchedKind = true, v.Text, Certificate
				break
			}
			if strings.EqualFold(v.Text, pkeyS) {
				r.Matched, r.MatchedValue, r.MatchedKind = true, v.Text, PublicKey
				break
			}
		}
	}
	if !r.Matched {
		r.All = ComputeAll(leaf)
		for _, v := range list.Values {
			r.Identified = append(r.Identified, identify(v.Text, r.All, list.PublicKeyOnly))
		}
	}
	return r
}

// checkTLSA emulates Postfix >= 3.6: each value becomes TLSA "3 1 255" and "3 0 255"
// records, prepended to a list (so the last value comes first), loaded with
// SSL_dane_tlsa_add, which refuses data whose length differs from the digest's.
func checkTLSA(r *Result, list List) {
	size := len(r.Fingerprints.Cert)
	usable := 0
	vals := list.Values
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		if v.Malformed {
			continue
		}
		bad := len(v.Bytes) != size || len(v.Bytes) == 0
		if bad {
			r.Unusable = append(r.Unusable, v.Text)
			r.Warnings = append(r.Warnings, Warning{Text: "{namaddr}: unusable TLSA RR: 3 1 255 " + tlsaHex(v.Bytes)})
			if !list.PublicKeyOnly {
				r.Warnings = append(r.Warnings, Warning{Text: "{namaddr}: unusable TLSA RR: 3 0 255 " + tlsaHex(v.Bytes)})
			}
			continue
		}
		usable++
	}
	if usable == 0 {
		r.AllUnusable = true
		r.Warnings = append(r.Warnings, Warning{Text: "{namaddr}: all fingerprints unusable"})
		r.Error = ErrUnspecified
		return
	}
	for _, v := range vals {
		if v.Malformed || len(v.Bytes) != size {
			continue
		}
		if !list.PublicKeyOnly && bytes.Equal(v.Bytes, r.Fingerprints.Cert) {
			r.Matched, r.MatchedValue, r.MatchedKind = true, v.Text, Certificate
			return
		}
		if bytes.Equal(v.Bytes, r.Fingerprints.PublicKey) {
			r.Matched, r.MatchedValue, r.MatchedKind = true, v.Text, PublicKey
			return
		}
	}
	r.Error = ErrNoMatch
}

// tlsaHex is tlsa_carp()'s rendering: upper-case hex, the first and last 32 bytes only
// when the data is longer than 64 bytes, "..." when empty.
func tlsaHex(b []byte) string {
	switch {
	case len(b) == 0:
		return "..."
	case len(b) > 64:
		return hexPlain(b[:32]) + "..." + hexPlain(b[len(b)-32:])
	}
	return hexPlain(b)
}

// Identify says which digest of the certificate or of its public key a value is, trying
// every digest of Digests(); the value may use colons or not, in either case.
func Identify(value string, cert *x509.Certificate) Identification {
	return identify(value, ComputeAll(cert), false)
}

func identify(value string, all []Fingerprints, pkeyOnly bool) Identification {
	id := Identification{Value: value}
	b, ok := DecodeHex(value)
	if !ok || len(b) == 0 {
		id.Why = "not a hex fingerprint"
		return id
	}
	for _, f := range all {
		if bytes.Equal(b, f.Cert) {
			id.Found, id.Digest, id.Kind = true, f.Digest, Certificate
			id.Why = "the " + DisplayName(f.Digest) + " fingerprint of the certificate"
			if pkeyOnly {
				id.Why += " (only public-key fingerprints are compared)"
			}
			return id
		}
		if bytes.Equal(b, f.PublicKey) {
			id.Found, id.Digest, id.Kind = true, f.Digest, PublicKey
			id.Why = "the " + DisplayName(f.Digest) + " fingerprint of the public key"
			return id
		}
	}
	id.Why = "a " + strconv.Itoa(len(b)) + "-byte value that is no fingerprint of this certificate or its public key"
	return id
}

// DisplayName spells a digest the way people write it: MD5, SHA-1, SHA-256, ...
func DisplayName(digest string) string {
	switch d := strings.ToLower(digest); {
	case d == "md5":
		return "MD5"
	case d == "sha1":
		return "SHA-1"
	case strings.HasPrefix(d, "sha3-"):
		return "SHA3-" + d[5:]
	case strings.HasPrefix(d, "sha512-"):
		return "SHA-512/" + d[7:]
	case strings.HasPrefix(d, "sha"):
		return "SHA-" + d[3:]
	}
	return digest
}

// Summary says in one sentence whether a value matched and, if not, why.
func (r Result) Summary() string {
	dn := DisplayName(r.Fingerprints.Digest)
	if r.Fingerprints.Digest == "" {
		return "no certificate to compare"
	}
	if r.Matched {
		return "fingerprint " + r.MatchedValue + " is the " + dn + " digest of the server's " + r.MatchedKind.String()
	}
	var s strings.Builder
	if r.AllUnusable {
		s.WriteString("every fingerprint value is unusable: none has the length of a " + dn + " digest (" +
			strconv.Itoa(len(r.Fingerprints.Cert)) + " bytes)")
	} else {
		s.WriteString("no fingerprint value equals the server's " + dn + " certificate digest " +
			r.Fingerprints.CertString() + " or public-key digest " + r.Fingerprints.PublicKeyString())
	}
	for _, id := range r.Identified {
		if id.Found {
			switch {
			case id.Digest != r.Fingerprints.Digest:
				s.WriteString("; " + id.Value + " is " + id.Why + ", but Postfix compares " + dn)
			case id.Kind == Certificate && r.pkeyOnly:
				s.WriteString("; " + id.Value + " is " + id.Why + ", but only public-key fingerprints are compared")
			case !r.colons:
				form := r.Fingerprints.CertString()
				if id.Kind == PublicKey {
					form = r.Fingerprints.PublicKeyString()
				}
				s.WriteString("; " + id.Value + " is " + id.Why + ", but Postfix <= 3.5 compares text and needs the colon form " + form)
			}
			break
		}
	}
	return s.String()
}
