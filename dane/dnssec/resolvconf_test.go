package dnssec

import (
	"strings"
	"testing"
)

func TestParseResolvConf(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		servers []string
		trustAD bool
		rule    TrustAD
		diags   int
	}{
		{"loopback resolver, no trust-ad: AD believed from loopback only", "nameserver 127.0.0.1\n", []string{"127.0.0.1:53"}, false, TrustADLoopback, 0},
		{"options trust-ad: AD believed from any server", "nameserver 192.0.2.53\noptions edns0 trust-ad\n", []string{"192.0.2.53:53"}, true, TrustADAlways, 0},
		{"IPv6 server", "nameserver ::1\n", []string{"[::1]:53"}, false, TrustADLoopback, 0},
		{"comments skipped silently", "# c\n; c\nnameserver 127.0.0.1\n", []string{"127.0.0.1:53"}, false, TrustADLoopback, 0},
		{"more than three servers: diagnostic", "nameserver 127.0.0.1\nnameserver 127.0.0.2\nnameserver 127.0.0.3\nnameserver 127.0.0.4\n",
			[]string{"127.0.0.1:53", "127.0.0.2:53", "127.0.0.3:53"}, false, TrustADLoopback, 1},
		{"bad address and unknown keyword: diagnostics", "nameserver localhost\nfoo bar\nnameserver 127.0.0.1\n", []string{"127.0.0.1:53"}, false, TrustADLoopback, 2},
		{"no nameserver: glibc default 127.0.0.1", "options rotate\n", []string{"127.0.0.1:53"}, false, TrustADLoopback, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc, err := ParseResolvConf(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(rc.Nameservers, ",") != strings.Join(c.servers, ",") || rc.TrustAD != c.trustAD || len(rc.Diagnostics) != c.diags {
				t.Fatalf("%+v", rc)
			}
			if cl := rc.Client(); cl.TrustAD != c.rule {
				t.Fatalf("rule %v", cl.TrustAD)
			}
		})
	}
}
