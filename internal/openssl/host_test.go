package openssl

import "testing"

// TestHostMatchDotReference: X509_check_host with a "."-prefixed reference (the
// sub-domain form DANE and Postfix's "dot-nexthop" pass) skips a prefix of the certificate
// name so that the rest has the reference's length, then compares: a certificate name equal
// to the reference matches, the bare parent does not. Each row was checked with
// "openssl x509 -checkhost" (OpenSSL 3.0) on certificates naming ".example.com" and
// "mail.example.org", or "example.org" and "MAIL.Example.NET".
func TestHostMatchDotReference(t *testing.T) {
	for _, c := range []struct {
		pattern, ref string
		want         bool
	}{
		{".example.com", ".example.com", true},
		{".example.com", "example.com", false},
		{".example.com", "a.example.com", false},
		{"mail.example.org", ".example.org", true},
		{"mail.example.org", "mail.example.org", true},
		{"example.org", ".example.org", false},
		{"MAIL.Example.NET", ".example.net", true},
	} {
		if got := HostMatch(c.pattern, c.ref); got != c.want {
			t.Errorf("HostMatch(%q, %q) = %v, OpenSSL says %v", c.pattern, c.ref, got, c.want)
		}
	}
}
