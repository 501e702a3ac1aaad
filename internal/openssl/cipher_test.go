package openssl

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/postfixtls/postfixtls/internal/testkit/need"
	"github.com/postfixtls/postfixtls/policy/release"
)

// TestCipherStringOracle compares the cipher-string model with the real openssl(1): the set
// of TLS 1.2-and-older suites each string selects must be identical.
func TestCipherStringOracle(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		need.Missing(t, "openssl missing (install package openssl)")
	}
	var strs []string
	for _, g := range []string{"high", "medium", "null"} {
		l, _ := GradeCipherList(g, release.Version{})
		strs = append(strs, l)
		l, _ = GradeCipherList(g, release.V(3, 7, 11))
		strs = append(strs, l)
	}
	base, _ := GradeCipherList("medium", release.Version{})
	for _, ex := range []string{"aNULL", "eNULL", "kRSA", "RSA", "SHA1", "SHA", "CBC", "AES128", "AES256", "AESGCM",
		"AESCCM", "AESCCM8", "CAMELLIA", "ARIA", "CHACHA20", "DHE", "EDH", "kDHE", "ADH", "AECDH", "ECDHE", "kECDHE",
		"ECDSA", "aECDSA", "aRSA", "DSS", "PSK", "kPSK", "aPSK", "SRP", "SHA256", "SHA384", "TLSv1.2", "TLSv1", "SSLv3",
		"kRSA+AES", "ECDHE+AESGCM", "ECDHE-RSA-AES128-SHA", "NOSUCHNAME", "ALL", "DEFAULT", "COMPLEMENTOFDEFAULT", "MD5"} {
		strs = append(strs, base+":!"+ex)
	}
	for _, s := range strs {
		out, err := exec.Command(bin, "ciphers", s+":@SECLEVEL=0").Output()
		var want []string
		if err == nil {
			for _, n := range strings.Split(strings.TrimSpace(string(out)), ":") {
				if !strings.HasPrefix(n, "TLS_") && n != "" {
					want = append(want, n)
				}
			}
		}
		var got []string
		for i, on := range enabledSuites(s) {
			if on {
				got = append(got, suites[i].Name)
			}
		}
		assert.ElementsMatch(t, want, got, "%q: the model and openssl(1) enable different suites", s)
	}
}
