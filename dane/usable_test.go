package dane

import (
	"slices"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

func TestClassify(t *testing.T) {
	leaf := pki.Must(t, pki.Spec{CN: []string{"mx.example.com"}}, nil)
	short := Record{3, 1, 1, make([]byte, 31)}
	cases := []struct {
		name     string
		recs     []Record
		opts     Options
		status   []Status
		warnings []string
		unusable bool // §6.1 item 9 (policy time)
		allUnus  bool // handshake time
	}{
		{"§6.3 usages 2 and 3 are used", []Record{rec(3, 1, 1, leaf), rec(2, 0, 2, leaf)}, Options{},
			[]Status{StatusUsable, StatusUsable}, nil, false, false},
		{"§9 vector 64: usages 0 and 1 dropped with Postfix's warning, set unusable",
			[]Record{{1, 1, 1, []byte{0xab}}, {0, 0, 1, []byte{0xcd}}}, Options{},
			[]Status{StatusUnsupportedUsage, StatusUnsupportedUsage},
			[]string{"_25._tcp.mx.example.com unsupported TLSA certificate usage: 1 1 1 AB",
				"_25._tcp.mx.example.com unsupported TLSA certificate usage: 0 0 1 CD"}, true, false},
		{"§6.3 matching type 255 in DNS is dropped", []Record{{3, 1, 255, []byte{1}}}, Options{},
			[]Status{StatusPrivateMatchingType}, []string{"_25._tcp.mx.example.com reserved private-use matching type: 3 1 255 01"}, true, false},
		{"§6.3 truncated record dropped", []Record{{3, 1, 1, nil}}, Options{},
			[]Status{StatusTruncated}, []string{"_25._tcp.mx.example.com: truncated TLSA RR length == 3"}, true, false},
		{"§9 vector 65: 31-byte sha256 is unusable at handshake (3.6+), not at policy time",
			[]Record{short}, Options{NamAddrPort: nap}, []Status{StatusUnusable},
			[]string{nap + ": unusable TLSA RR: 3 1 1 " + strings.Repeat("00", 31),
				nap + ": all TLSA records unusable, fallback to unauthenticated TLS"}, false, true},
		{"§6.3 selector 2 unusable at handshake (3.6+)", []Record{{3, 2, 1, make([]byte, 32)}}, Options{NamAddrPort: nap},
			[]Status{StatusUnusable}, nil, false, true},
		{"§6.3 undecodable full certificate unusable (3.6+)", []Record{{2, 0, 0, []byte{1, 2, 3}}}, Options{NamAddrPort: nap},
			[]Status{StatusUnusable}, nil, false, true},
		{"§6.3 sha512 disabled by tls_dane_digests = sha256", []Record{rec(3, 1, 2, leaf)},
			Options{NamAddrPort: nap, Digests: ParseDigests("sha256")}, []Status{StatusUnusable}, nil, false, true},
		{"§6.3 <=3.5: wrong digest length dropped at parse time, set unusable", []Record{short},
			Options{PreOpenSSLDANE: true}, []Status{StatusMalformed},
			[]string{"malformed sha256 digest, length 31, in RR: _25._tcp.mx.example.com IN TLSA 3 1 1 ..."}, true, false},
		{"§6.3 <=3.5: unsupported selector", []Record{{3, 2, 1, make([]byte, 32)}}, Options{PreOpenSSLDANE: true},
			[]Status{StatusMalformed}, []string{"unsupported selector 2 in RR: _25._tcp.mx.example.com IN TLSA 3 2 ..."}, true, false},
		{"§6.3 <=3.5: usage 1 wording", []Record{{1, 1, 1, make([]byte, 32)}}, Options{PreOpenSSLDANE: true},
			[]Status{StatusUnsupportedUsage}, []string{"unsupported certificate usage 1 in RR: _25._tcp.mx.example.com IN TLSA 1 ..."}, true, false},
		{"§6.3 <=3.5: matching type 255 unsupported", []Record{{3, 1, 255, make([]byte, 32)}}, Options{PreOpenSSLDANE: true},
			[]Status{StatusMalformed}, []string{"unsupported matching type 255 in RR: _25._tcp.mx.example.com IN TLSA 3 1 255 ..."}, true, false},
		{"§6.3 <=3.5: malformed full certificate", []Record{{2, 0, 0, []byte{1}}}, Options{PreOpenSSLDANE: true},
			[]Status{StatusMalformed}, []string{"malformed certificate in RR: _25._tcp.mx.example.com IN TLSA 2 0 0 ..."}, true, false},
		{"§6.3 <=3.5 digest agility: sha256 dropped after sha512 at parse time",
			[]Record{rec(3, 1, 1, leaf), wrong(rec(3, 1, 2, leaf))}, Options{PreOpenSSLDANE: true},
			[]Status{StatusUsable, StatusAgilityDropped}, nil, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Classify(c.recs, "_25._tcp.mx.example.com", "_25._tcp.mx.example.com", c.opts)
			var got []Status
			for _, r := range s.Reports {
				got = append(got, r.Status)
				if r.Status != StatusUsable && r.Reason == "" {
					t.Errorf("record %v: no reason", r.Record)
				}
			}
			if !slices.Equal(got, c.status) {
				t.Fatalf("statuses %v, want %v", got, c.status)
			}
			if c.warnings != nil {
				if w := s.Warnings(true); !slices.Equal(w, c.warnings) {
					t.Fatalf("warnings\n%q\nwant\n%q", w, c.warnings)
				}
			}
			if s.UnusableAtLookup() != c.unusable || s.AllUnusable() != c.allUnus {
				t.Fatalf("unusable %v allUnusable %v", s.UnusableAtLookup(), s.AllUnusable())
			}
		})
	}
}

func TestClassifyCNAMEOwnerInWarning(t *testing.T) {
	s := Classify([]Record{{0, 0, 1, []byte{1}}}, "_25._tcp.mx.example.com", "_25._tcp.mx.example.net", Options{})
	want := "_25._tcp.mx.example.com -> _25._tcp.mx.example.net unsupported TLSA certificate usage: 0 0 1 01"
	if w := s.Warnings(true); len(w) != 1 || w[0] != want {
		t.Fatalf("%q", w)
	}
}

func TestDaneOnlyAllUnusableWording(t *testing.T) {
	s := Classify([]Record{{3, 1, 1, []byte{1}}}, "q", "q", Options{NamAddrPort: nap})
	w := s.Warnings(false)
	if w[len(w)-1] != nap+": all TLSA records unusable" {
		t.Fatal(w)
	}
}

func TestParseDigests(t *testing.T) {
	cases := []struct {
		name     string
		spec     string
		ord1     uint8
		ord2     uint8
		warnings int
	}{
		{"§6.3 default sha512 preferred over sha256", "sha512 sha256", 1, 2, 0},
		{"order decides preference", "sha256, sha512", 2, 1, 0},
		{"only sha256 enabled", "sha256", 1, 0, 0},
		{"explicit numbers", "sha512=2 sha256=1", 1, 2, 0},
		{"matching type 1 can only be sha256", "sha512=1", 0, 0, 1},
		{"reserved number 0", "sha256=0", 0, 0, 1},
		{"invalid number", "sha256=x", 0, 0, 1},
		{"unknown algorithm needs number", "md5", 0, 0, 1},
		{"unknown algorithm with number", "sha384=3 sha256", 1, 0, 1},
		{"duplicate", "sha256 sha256", 1, 0, 1},
		{"disable with =number", "sha256 =2", 1, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ParseDigests(c.spec)
			if d.Ordinal(1) != c.ord1 || d.Ordinal(2) != c.ord2 || len(d.Warnings) != c.warnings {
				t.Fatalf("ord1 %d ord2 %d warnings %q", d.Ordinal(1), d.Ordinal(2), d.Warnings)
			}
		})
	}
}
