package smtpclient

import (
	"fmt"
	"net"
	"strings"

	"golang.org/x/net/idna"
)

// maxSNILength is OpenSSL's TLSEXT_MAXLEN_host_name.
const maxSNILength = 255

// sniName prepares the SNI name as Postfix's tls_auth_enable() does: a name with non-ASCII
// characters is converted to A-labels (kept as is when that fails), and a name longer than 255
// bytes aborts the TLS session ("ignoring too long SNI hostname").
func sniName(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	if !isASCII(name) {
		if a, err := idna.Lookup.ToASCII(name); err == nil {
			name = a
		}
	}
	if len(name) > maxSNILength {
		return "", &ConfigError{Warning: fmt.Sprintf("ignoring too long SNI hostname: %.100s", name)}
	}
	return name, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// sniGaps says where Go's SNI differs from OpenSSL's for name.
func sniGaps(name string) []Gap {
	var g []Gap
	if net.ParseIP(strings.Trim(name, "[]")) != nil {
		g = append(g, Gap{Code: GapSNIIPLiteral, Detail: "Go never sends an IP address as SNI; OpenSSL sends whatever name Postfix sets"})
	}
	if strings.HasSuffix(name, ".") {
		g = append(g, Gap{Code: GapSNITrailingDot, Detail: "Go strips the trailing dot from the SNI name; OpenSSL sends it"})
	}
	return g
}
