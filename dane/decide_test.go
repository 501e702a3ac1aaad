package dane

import (
	"errors"
	"testing"

	"github.com/postfixtls/postfixtls/dane/dnssec"
)

func TestDecide(t *testing.T) {
	usable := &TLSAResult{BaseDomain: "mx.example.com", QName: "_25._tcp.mx.example.com.", RName: "_25._tcp.mx.example.com.",
		Records: []Record{{3, 1, 1, make([]byte, 32)}}}
	pkixOnly := &TLSAResult{BaseDomain: "mx.example.com", QName: "_25._tcp.mx.example.com.", RName: "_25._tcp.mx.example.com.",
		Records: []Record{{1, 1, 1, make([]byte, 32)}, {0, 0, 1, make([]byte, 32)}}}
	none := &TLSAResult{BaseDomain: "mx.example.com", Why: "no TLSA records at _25._tcp.mx.example.com"}
	lookupErr := &TLSAError{Host: "mx.example.com.", Port: 25, Err: &dnssec.LookupError{Name: "_25._tcp.mx.example.com.", Err: dnssec.ErrServFail}}
	cases := []struct {
		name    string
		in      DecideInput
		outcome Outcome
		reason  string
		dsn     string
	}{
		{"§6.1 item 6 / §9 vector 67: dane, insecure MX, policy may -> may", DecideInput{HaveMX: true, InsecureMXPolicy: "may", TLSA: usable},
			OutcomeMay, "non DNSSEC destination", ""},
		{"§6.1 item 6 / §9 vector 67: dane-only, insecure MX -> defer non DNSSEC destination", DecideInput{DaneOnly: true, HaveMX: true, InsecureMXPolicy: "dane"},
			OutcomeDefer, "non DNSSEC destination", "4.7.5"},
		{"§6.1 item 7 / §9 vector 63: TLSA lookup error defers even at dane", DecideInput{HaveMX: true, MXSecure: true, TLSAErr: lookupErr},
			OutcomeDefer, "TLSA lookup error for mx.example.com:25", "4.7.5"},
		{"§6.1 item 7: not looked up yet", DecideInput{HaveMX: true, MXSecure: true}, OutcomeNeedTLSA, "", ""},
		{"§6.1 item 8 / §9 vector 59: dane, no TLSA -> may", DecideInput{HaveMX: true, MXSecure: true, TLSA: none},
			OutcomeMay, "no TLSA records found", ""},
		{"§6.1 item 8 / §9 vector 60: dane-only, no TLSA -> defer", DecideInput{DaneOnly: true, HaveMX: true, MXSecure: true, TLSA: none},
			OutcomeDefer, "no TLSA records found", "4.7.5"},
		{"§6.1 item 8 / §9 vector 61: insecure host (lookup skipped) -> may", DecideInput{HaveMX: true, MXSecure: true, TLSA: &TLSAResult{Skipped: true}},
			OutcomeMay, "no TLSA records found", ""},
		{"§6.1 item 9 / §9 vector 64: only usages 0/1 -> encrypt", DecideInput{HaveMX: true, MXSecure: true, TLSA: pkixOnly},
			OutcomeEncrypt, "TLSA records unusable", ""},
		{"§6.1 item 9 / §9 vector 64: dane-only -> defer TLSA records unusable", DecideInput{DaneOnly: true, HaveMX: true, MXSecure: true, TLSA: pkixOnly},
			OutcomeDefer, "TLSA records unusable", "4.7.5"},
		{"§6.1 item 10: insecure MX, policy encrypt -> encrypt", DecideInput{HaveMX: true, InsecureMXPolicy: "encrypt", TLSA: usable},
			OutcomeEncrypt, "Verification not possible, MX RRset is insecure", ""},
		{"§6.1 item 11 / §9 vector 67: insecure MX, policy dane -> halfdane", DecideInput{HaveMX: true, InsecureMXPolicy: "dane", TLSA: usable},
			OutcomeHalfDane, "", ""},
		{"§6.2 [host] nexthop: no MX RRset, secure host -> dane", DecideInput{TLSA: usable}, OutcomeDane, "", ""},
		{"§9 vector 57: secure MX and TLSA -> dane", DecideInput{HaveMX: true, MXSecure: true, TLSA: usable}, OutcomeDane, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.in)
			if d.Outcome != c.outcome || d.Reason != c.reason || d.DSN != c.dsn || d.Rule == "" || (d.Explanation == "" && d.Outcome != OutcomeNeedTLSA) {
				t.Fatalf("got %+v", d)
			}
		})
	}
}

func TestDecideWarnings(t *testing.T) {
	pkixOnly := &TLSAResult{QName: "_25._tcp.mx.example.com.", RName: "_25._tcp.mx.example.com.", Records: []Record{{1, 1, 1, []byte{0xab}}}}
	d := Decide(DecideInput{HaveMX: true, MXSecure: true, TLSA: pkixOnly})
	if len(d.Warnings) != 1 || d.Warnings[0] != "_25._tcp.mx.example.com unsupported TLSA certificate usage: 1 1 1 AB" {
		t.Fatalf("%q", d.Warnings)
	}
}

func TestInsecureMXPolicy(t *testing.T) {
	if v, err := ParseInsecureMXPolicy("Encrypt"); err != nil || v != "encrypt" {
		t.Fatal(v, err)
	}
	if _, err := ParseInsecureMXPolicy("verify"); !errors.Is(err, ErrBadInsecureMXPolicy) {
		t.Fatal(err)
	}
	cases := []struct {
		name                string
		major, minor, patch int
		global, want        string
	}{
		{"§8 3.7.11 (Debian) with global may: conditional default may", 3, 7, 11, "may", "may"},
		{"§8 3.7.11 with global dane: dane", 3, 7, 11, "dane", "dane"},
		{"§8 3.7.13 fixed: dane", 3, 7, 13, "may", "dane"},
		{"§8 3.4.18 before the conditional default: dane", 3, 4, 18, "may", "dane"},
		{"§8 3.10.0: dane", 3, 10, 0, "", "dane"},
		{"§8 3.9.1 conditional", 3, 9, 1, "encrypt", "may"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := DefaultInsecureMXPolicy(c.major, c.minor, c.patch, c.global); got != c.want {
				t.Fatal(got)
			}
		})
	}
}

func TestSuccessWord(t *testing.T) {
	if OutcomeDane.SuccessWord() != "Verified" || OutcomeHalfDane.SuccessWord() != "Trusted" || OutcomeMay.SuccessWord() != "" {
		t.Fatal("§6.4: dane success is Verified, halfdane Trusted")
	}
}
