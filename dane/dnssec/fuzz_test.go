package dnssec

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzWalkAnswer feeds arbitrary DNS messages through the answer handling: CNAME walking
// inside one message and the SOA check that proves a target has no data.
func FuzzWalkAnswer(f *testing.F) {
	seed := func(rrs ...string) {
		m := new(dns.Msg)
		m.SetQuestion("_25._tcp.mx.example.com.", dns.TypeTLSA)
		m.Response = true
		for _, s := range rrs {
			m.Answer = append(m.Answer, mustRR(s))
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if len(b) > 20 {
			f.Add(b[:len(b)/2]) // truncated
		}
	}
	seed("_25._tcp.mx.example.com. 60 IN TLSA 3 1 1 00ff")
	seed("_25._tcp.mx.example.com. 60 IN CNAME x.example.net.", "x.example.net. 60 IN TLSA 2 0 0 00")
	seed("_25._tcp.mx.example.com. 60 IN CNAME a.", "a. 60 IN CNAME _25._tcp.mx.example.com.")
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return
		}
		w := walkAnswer(m, "_25._tcp.mx.example.com.", dns.TypeTLSA)
		if len(w.hops) > len(m.Answer) {
			t.Fatalf("%d hops from %d answer records", len(w.hops), len(m.Answer))
		}
		for _, rr := range w.records {
			if !strings.EqualFold(rr.Header().Name, w.name) || rr.Header().Rrtype != dns.TypeTLSA {
				t.Fatalf("record %v is not a TLSA record of %s", rr, w.name)
			}
		}
		_ = hasSOA(m)
	})
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add("nameserver 127.0.0.1\noptions trust-ad edns0 ndots:2\nsearch a b\n")
	f.Add("nameserver ::1%lo\nnameserver x\nfoo\noptions timeout:99999999999999999999\n")
	f.Fuzz(func(t *testing.T, s string) {
		rc, err := ParseResolvConf(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(rc.Nameservers) == 0 || len(rc.Nameservers) > 3 {
			t.Fatalf("nameservers %q", rc.Nameservers)
		}
	})
}
