package smtpclient

import (
	"crypto/tls"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/policy"
)

func TestTLSConfigForProtocols(t *testing.T) {
	tests := []struct {
		name      string
		params    TLSParams
		versions  []string
		abort     string
		warnings  []string
		cantGoNow bool
	}{
		{name: "§7.3 empty list: no restriction", params: TLSParams{},
			versions: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
		{name: "§7.1 default 3.6+ >=TLSv1", params: TLSParams{Protocols: ">=TLSv1"},
			versions: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
		{name: "§7.3 >=TLSv1.2 sets the floor", params: TLSParams{Protocols: ">=TLSv1.2"},
			versions: []string{"TLSv1.2", "TLSv1.3"}},
		{name: "§7.3 <=TLSv1.2 sets the ceiling", params: TLSParams{Protocols: "<=TLSv1.2"},
			versions: []string{"TLSv1", "TLSv1.1", "TLSv1.2"}},
		{name: "§7.3 legacy exclusions !SSLv2, !SSLv3", params: TLSParams{Protocols: "!SSLv2, !SSLv3"},
			versions: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
		{name: "§7.3 include list excludes every other known protocol", params: TLSParams{Protocols: "TLSv1.2:TLSv1.3"},
			versions: []string{"TLSv1.2", "TLSv1.3"}},
		{name: "§7.3 names are case-insensitive", params: TLSParams{Protocols: "tlsv1.2 TLSV1.3"},
			versions: []string{"TLSv1.2", "TLSv1.3"}},
		{name: "§7.3 excluding a middle version: OpenSSL keeps the lowest contiguous run", params: TLSParams{Protocols: "!TLSv1.1"},
			versions: []string{"TLSv1"}},
		{name: "§7.3 hex bounds 303 and 0x0304", params: TLSParams{Protocols: ">=303 <=0x0304"},
			versions: []string{"TLSv1.2", "TLSv1.3"}},
		{name: "§7.3 >=None is no floor", params: TLSParams{Protocols: ">=None,<=TLSv1.1"},
			versions: []string{"TLSv1", "TLSv1.1"}},
		{name: "§7.3 unknown hex version: OpenSSL warns and ignores the bound", params: TLSParams{Protocols: ">=0x0305"},
			versions: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}, warnings: []string{"error setting minimum TLS version to: 0x0305"}},
		{name: "§7.3 unknown name aborts the TLS session", params: TLSParams{Protocols: "TLSv1.4"},
			abort: `Invalid TLS protocol list "TLSv1.4": aborting TLS session`},
		{name: "§7.3 hex is not allowed in the include form", params: TLSParams{Protocols: "0x303"},
			abort: `Invalid TLS protocol list "0x303": aborting TLS session`},
		{name: "§7.3 >= before 3.6 is an invalid list", params: TLSParams{Protocols: ">=TLSv1.2", Release: policy.V(3, 5, 25)},
			abort: `Invalid TLS protocol list ">=TLSv1.2": aborting TLS session`},
		{name: "§7.3 TLSv1.3 unknown before 3.4 (3.3.1)", params: TLSParams{Protocols: "!TLSv1.3", Release: policy.V(3, 3, 1)},
			abort: `Invalid TLS protocol list "!TLSv1.3": aborting TLS session`},
		{name: "§7.3 TLSv1.3 known in 3.3.2", params: TLSParams{Protocols: "!TLSv1.3", Release: policy.V(3, 3, 2)},
			versions: []string{"TLSv1", "TLSv1.1", "TLSv1.2"}},
		{name: "§7.1 DANE levels disable SSLv3: nothing left", params: TLSParams{Protocols: "SSLv3", Level: testLevel("dane")},
			abort: "TLS library problem: error:0A0000BF:SSL routines::no protocols available"},
		{name: "§3.1 secure with only TLSv1.1: Go cannot emulate security level 1", params: TLSParams{Protocols: "TLSv1.1", Level: testLevel("secure")},
			cantGoNow: true},
		{name: "§3.1 levels above encrypt: OpenSSL 3 offers TLS 1.0/1.1 (Go gets a TLS 1.2 floor, see below)", params: TLSParams{Protocols: ">=TLSv1", Level: testLevel("verify")},
			versions: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
		{name: "§7.3 only SSLv3: OpenSSL 3 has no protocol left", params: TLSParams{Protocols: "SSLv3"},
			abort: "TLS library problem: error:0A0000BF:SSL routines::no protocols available"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := TLSConfigFor(tc.params)
			if tc.abort != "" {
				if err == nil || m.Abort == nil || m.Abort.Warning != tc.abort {
					t.Fatalf("abort = %v, want %q", err, tc.abort)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.GoCannotConnect != tc.cantGoNow {
				t.Fatalf("GoCannotConnect = %v (versions %v)", m.GoCannotConnect, m.Versions)
			}
			if tc.cantGoNow {
				return
			}
			if !reflect.DeepEqual(m.Versions, tc.versions) {
				t.Errorf("versions = %v, want %v", m.Versions, tc.versions)
			}
			if !reflect.DeepEqual(m.Warnings, tc.warnings) {
				t.Errorf("warnings = %q, want %q", m.Warnings, tc.warnings)
			}
			cfg := m.Config()
			if !cfg.InsecureSkipVerify || cfg.MinVersion == 0 || cfg.MaxVersion == 0 {
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

func TestSecurityLevel1Floor(t *testing.T) {
	// §3.1: above encrypt OpenSSL 3 runs at security level 1, which fails (EC)DHE handshakes
	// below TLS 1.2 (posttls-finger: "legacy sigalg disallowed or unsupported").
	m, err := TLSConfigFor(TLSParams{Protocols: ">=TLSv1", Level: testLevel("secure")})
	if err != nil || m.MinVersion != tls.VersionTLS12 || m.MaxVersion != tls.VersionTLS13 || !hasGap(m, "security-level-1") {
		t.Fatalf("mapping %+v err %v", m, err)
	}
	m, _ = TLSConfigFor(TLSParams{Protocols: ">=TLSv1", Level: testLevel("encrypt")})
	if m.MinVersion != tls.VersionTLS10 || hasGap(m, "security-level-1") {
		t.Fatalf("encrypt runs at security level 0: %+v", m)
	}
}

func TestTLSConfigForCiphers(t *testing.T) {
	tests := []struct {
		name   string
		params TLSParams
		abort  string
		check  func(t *testing.T, m TLSMapping)
	}{
		{name: "§7.2 medium (3.8+ default list) allows anonymous suites at may", params: TLSParams{Grade: "medium"},
			check: func(t *testing.T, m TLSMapping) {
				if !slices.Contains(m.OpenSSLSuites, "ADH-AES256-GCM-SHA384") || !hasGap(m, "anonymous-suites") {
					t.Error("aNULL:-aNULL:HIGH re-adds anonymous suites")
				}
				if !slices.Contains(m.CipherSuites, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) {
					t.Error("ECDHE-RSA-AES128-GCM-SHA256 missing")
				}
				if !strings.HasPrefix(m.CipherList, "aNULL:-aNULL:HIGH:MEDIUM:!SEED") {
					t.Errorf("cipher list %q", m.CipherList)
				}
			}},
		{name: "§7.1 aNULL excluded above encrypt: no anonymous suites", params: TLSParams{Grade: "medium", Exclusions: []string{"aNULL"}, Level: testLevel("secure")},
			check: func(t *testing.T, m TLSMapping) {
				if hasGap(m, "anonymous-suites") || strings.Contains(strings.Join(m.OpenSSLSuites, ":"), "ADH-") {
					t.Error("anonymous suites left")
				}
				if !strings.HasSuffix(m.CipherList, ":!aNULL") {
					t.Errorf("cipher list %q", m.CipherList)
				}
			}},
		{name: "§7.2 exclusions split on white space, commas and colons", params: TLSParams{Exclusions: []string{"kRSA, SHA1:aNULL"}},
			check: func(t *testing.T, m TLSMapping) {
				if slices.Contains(m.CipherSuites, tls.TLS_RSA_WITH_AES_128_GCM_SHA256) ||
					slices.Contains(m.CipherSuites, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA) {
					t.Errorf("excluded suites still offered: %v", m.CipherSuites)
				}
				if !strings.HasSuffix(m.CipherList, ":!kRSA:!SHA1:!aNULL") {
					t.Errorf("cipher list %q", m.CipherList)
				}
			}},
		{name: "§7.2 grade names are case-insensitive", params: TLSParams{Grade: "HIGH"},
			check: func(t *testing.T, m TLSMapping) {
				if len(m.CipherSuites) == 0 {
					t.Error("no suites")
				}
			}},
		{name: "§7.2 unknown grade aborts", params: TLSParams{Grade: "strong"}, abort: `invalid cipher grade: "strong"`},
		{name: "§7.2 exclusion with a modifier aborts", params: TLSParams{Exclusions: []string{"!RC4"}},
			abort: "invalid unary '!+-@' in cipher exclusion: !RC4"},
		{name: "§7.2 null grade with eNULL excluded (encrypt): empty list aborts", params: TLSParams{Grade: "null", Exclusions: []string{"eNULL"}, Level: testLevel("encrypt")},
			abort: `error setting cipher grade: "null"`},
		{name: "§7.2 null grade at may: OpenSSL has NULL suites, Go none; TLS 1.3 still possible", params: TLSParams{Grade: "null"},
			check: func(t *testing.T, m TLSMapping) {
				if m.MinVersion != tls.VersionTLS13 || !hasGap(m, "null-ciphers") || !hasGap(m, "no-go-suites-below-tls13") {
					t.Errorf("mapping %+v", m)
				}
			}},
		{name: "§7.2 null grade up to TLS 1.2: Go cannot emulate", params: TLSParams{Grade: "null", Protocols: "<=TLSv1.2"},
			check: func(t *testing.T, m TLSMapping) {
				if !m.GoCannotConnect || !hasGap(m, "no-go-suites") {
					t.Errorf("mapping %+v", m)
				}
			}},
		{name: "§7.2 3.7 and older: low/export are real grades (same suites in OpenSSL 3)", params: TLSParams{Grade: "export", Release: policy.V(3, 7, 11)},
			check: func(t *testing.T, m TLSMapping) {
				if m.CipherList != "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH" {
					t.Errorf("cipher list %q", m.CipherList)
				}
			}},
		{name: "Go-only suites (RC4, 3DES) are never offered: OpenSSL 3 has none", params: TLSParams{Grade: "medium", Release: policy.V(3, 7, 11)},
			check: func(t *testing.T, m TLSMapping) {
				if slices.Contains(m.CipherSuites, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA) || slices.Contains(m.CipherSuites, tls.TLS_RSA_WITH_RC4_128_SHA) {
					t.Error("3DES/RC4 offered")
				}
				if !hasGap(m, "openssl-only-suites") {
					t.Error("missing openssl-only-suites gap")
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := TLSConfigFor(tc.params)
			if tc.abort != "" {
				if err == nil || m.Abort.Warning != tc.abort {
					t.Fatalf("err %v, want %q", err, tc.abort)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}
}

func hasGap(m TLSMapping, code GapCode) bool {
	for _, g := range m.Gaps {
		if g.Code == code {
			return true
		}
	}
	return false
}

// testLevel reads a level name for the tables above.
func testLevel(name string) policy.Level {
	l, ok := policy.ParseLevel(name)
	if !ok {
		panic("bad level " + name)
	}
	return l
}
