package match

import (
	"strings"
)

// Mode selects which Postfix name matcher is emulated.
type Mode int

const (
	// OpenSSL is Postfix >= 3.6: reference names are handed to OpenSSL (SSL_add1_host with
	// X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS) and X509_check_host decides. This is the zero value.
	OpenSSL Mode = iota
	// Legacy is Postfix 2.11-3.5: Postfix's own match_servername() in tls_client.c.
	Legacy
)

// String returns "openssl" or "legacy".
func (m Mode) String() string {
	switch m {
	case OpenSSL:
		return "openssl"
	case Legacy:
		return "legacy"
	}
	return "unknown"
}

// IPLiterals says what OpenSSL does with a reference name that parses as an IP address.
type IPLiterals int

const (
	// IPAddressChecks is OpenSSL 3.x SSL_add1_host: an IP-looking name becomes the (single)
	// iPAddress check, matched only against iPAddress SANs, and it must pass in addition to
	// the host-name checks. This is the zero value (Postfix 3.7.11 with OpenSSL 3.0).
	IPAddressChecks IPLiterals = iota
	// IPAsDNSName treats IP-looking names as DNS names (OpenSSL 1.1.1, or Postfix 3.12 with
	// OpenSSL 4's SSL_add1_dnsname).
	IPAsDNSName
)

// Options choose the Postfix behaviour to emulate. The zero value is Postfix 3.6+ with
// OpenSSL 3 (the behaviour of Debian 12's Postfix 3.7.11).
type Options struct {
	// Mode picks the matcher: OpenSSL (Postfix >= 3.6) or Legacy (Postfix 2.11-3.5).
	Mode Mode
	// IPLiterals matters in OpenSSL mode only.
	IPLiterals IPLiterals
	// WildcardMultipleLabels is tls_wildcard_matches_multiple_labels; it has an effect in
	// Legacy mode only (Postfix 2.11-3.5, default yes there; releases before 2.11 behave
	// as no). Postfix >= 3.6 ignores the parameter.
	WildcardMultipleLabels bool
	// Trace makes Check record every comparison in Result.Tries even when a name matched.
	// Without it, Tries is filled only on a mismatch (keeping the success path allocation-free).
	Trace bool
}

// Warning is a diagnostic in Postfix's own words. Text may contain the placeholder
// "{namaddr}" for the server's "host[addr]:port", which Postfix's TLS library puts there.
type Warning struct {
	// Text is the warning after Postfix's "warning: " prefix, with "{namaddr}" placeholders.
	Text string
}

const namaddrToken = "{namaddr}"

// Render returns the warning as Postfix logs it (without "warning: "), with the
// "{namaddr}" placeholder replaced by namaddr (e.g. "mx.example.com[192.0.2.10]:25").
func (w Warning) Render(namaddr string) string {
	return strings.Replace(w.Text, namaddrToken, namaddr, 1)
}

// String renders the warning with the placeholder shown as "<namaddr>".
func (w Warning) String() string { return w.Render("<namaddr>") }

func warnf(parts ...string) Warning { return Warning{Text: strings.Join(parts, "")} }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// cstr cuts s at its first NUL, as a C string would be read.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// truncBytes mimics printf's "%.Ns": at most n bytes.
func truncBytes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
