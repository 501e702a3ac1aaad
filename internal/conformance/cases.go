package conformance

import (
	"fmt"
	"strings"
)

// The standard destination of most cases: user@example.test, MX mx.example.test (signed
// zone) at 127.0.1.20:25.
const (
	stdRcpt = "user@example.test"
	stdAddr = "127.0.1.20:25"
)

var stdZone = []string{
	"example.test. IN MX 10 mx.example.test.",
	"mx.example.test. IN A 127.0.1.20",
}

func withZone(extra ...string) []string { return append(append([]string{}, stdZone...), extra...) }

func oracle(outcome, dsn, reason, trust string) *Outcome {
	return &Outcome{Outcome: outcome, DSN: dsn, Reason: reason, Trust: trust}
}

const (
	okReason      = "250 2.0.0 Ok"
	notVerified   = "Server certificate not verified"
	tlsNotOffered = "TLS is required, but was not offered by host mx.example.test[127.0.1.20]"
)

// OracleCases are the public cases of the shared oracle (../shared/oracle/cases), translated:
// same configuration, zone and servers, with the outcome Postfix 3.7.11 recorded for each.
func OracleCases(cs *Certs) []Case {
	tlsa := func(name string) string {
		return "_25._tcp.mx.example.test. IN TLSA 3 1 1 " + cs.TLSA(name, 1, 1)
	}
	fastZone := []string{
		"fastmail.test. IN MX 10 in1-smtp.messagingengine.test.",
		"in1-smtp.messagingengine.test. IN A 127.0.1.10",
	}
	fastSrv := []Server{{Addr: "127.0.1.10:25", Cert: "messagingengine"}}
	return []Case{
		{Name: "oracle/cn-only-verify", Desc: "verify: without SAN the CN is matched", Rcpt: stdRcpt,
			Policy: []string{"example.test verify"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr, Cert: "cn-only"}},
			Oracle: oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/dane-311-match", Desc: "dane: TLSA 3 1 1 matching a self-signed key", Rcpt: stdRcpt,
			Policy: []string{"example.test dane"}, Zone: withZone(tlsa("selfsigned")), Servers: []Server{{Addr: stdAddr, Cert: "selfsigned"}},
			Oracle: oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/dane-311-mismatch", Desc: "dane: TLSA 3 1 1 of another key defers", Rcpt: stdRcpt,
			Policy: []string{"example.test dane"}, Zone: withZone(tlsa("mx-example")), Servers: []Server{{Addr: stdAddr, Cert: "selfsigned"}},
			Oracle: oracle("defer", "4.7.5", notVerified, "Untrusted")},
		{Name: "oracle/dane-bogus-zone", Desc: "dane: bogus DNSSEC chain, MX lookup SERVFAIL", Rcpt: "user@bogus.test",
			Policy: []string{"bogus.test dane"},
			Zone: []string{"bogus.test. IN MX 10 mx.bogus.test.", "mx.bogus.test. IN A 127.0.1.40",
				"_25._tcp.mx.bogus.test. IN TLSA 3 1 1 " + cs.TLSA("selfsigned", 1, 1)},
			Servers: []Server{{Addr: "127.0.1.40:25", Cert: "selfsigned"}},
			Oracle:  oracle("defer", "4.4.3", "Host or domain name not found. Name service error for name=bogus.test type=MX: Host not found, try again", "")},
		{Name: "oracle/dane-no-tlsa-falls-to-may", Desc: "dane: signed zone without TLSA is opportunistic", Rcpt: stdRcpt,
			Policy: []string{"example.test dane"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr, Cert: "selfsigned"}},
			Oracle: oracle("deliver", "2.0.0", okReason, "Untrusted")},
		{Name: "oracle/encrypt-no-starttls", Desc: "encrypt: STARTTLS not offered defers 4.7.4", Rcpt: stdRcpt,
			Policy: []string{"example.test encrypt"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr}},
			Oracle: oracle("defer", "4.7.4", tlsNotOffered, "")},
		{Name: "oracle/encrypt-selfsigned", Desc: "encrypt: any certificate is enough", Rcpt: stdRcpt,
			Policy: []string{"example.test encrypt"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr, Cert: "selfsigned"}},
			Oracle: oracle("deliver", "2.0.0", okReason, "Untrusted")},
		{Name: "oracle/fastmail-secure", Desc: "secure: default match nexthop:dot-nexthop fails for a foreign MX name", Rcpt: "user@fastmail.test",
			Policy: []string{"fastmail.test secure"}, Zone: fastZone, Servers: fastSrv,
			Oracle: oracle("defer", "4.7.5", notVerified, "Untrusted")},
		{Name: "oracle/fastmail-verify", Desc: "verify: default match hostname uses the MX name", Rcpt: "user@fastmail.test",
			Policy: []string{"fastmail.test verify"}, Zone: fastZone, Servers: fastSrv,
			Oracle: oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/fingerprint-md5", Desc: "fingerprint: md5 digest", Rcpt: stdRcpt,
			MainCF: []string{"smtp_tls_fingerprint_digest = md5"},
			Policy: []string{"example.test fingerprint match=" + cs.FP("mx-example", "md5")}, Zone: stdZone,
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}},
			Oracle:  oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/fingerprint-pubkey", Desc: "fingerprint: public-key digest in a |-separated list", Rcpt: stdRcpt,
			Policy: []string{"example.test fingerprint match=00:11:22|" + cs.PKFP("wrongca", "sha256")}, Zone: stdZone,
			Servers: []Server{{Addr: stdAddr, Cert: "wrongca"}},
			Oracle:  oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/may-no-starttls", Desc: "may: plaintext without STARTTLS", Rcpt: stdRcpt,
			Policy: []string{"example.test may"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr}},
			Oracle: oracle("deliver", "2.0.0", okReason, "")},
		{Name: "oracle/mx-fallback-second-mx", Desc: "verify: a failing first MX, the second delivers", Rcpt: stdRcpt,
			Policy: []string{"example.test verify"},
			Zone: []string{"example.test. IN MX 10 mx1.example.test.", "example.test. IN MX 20 mx.example.test.",
				"mx1.example.test. IN A 127.0.1.21", "mx.example.test. IN A 127.0.1.20"},
			Servers: []Server{{Addr: "127.0.1.21:25", Cert: "wrongca"}, {Addr: stdAddr, Cert: "mx-example"}},
			Oracle:  oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/policy-host-port", Desc: "table key [host]:port for a transport next hop", Rcpt: stdRcpt,
			Transport: []string{"example.test relay:[mx.example.test]:2525"},
			Policy:    []string{"example.test none", "[mx.example.test]:2525 secure"},
			Zone:      []string{"mx.example.test. IN A 127.0.1.20"},
			Servers:   []Server{{Addr: "127.0.1.20:2525", Cert: "mx-example"}},
			Oracle:    oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/policy-parent-domain", Desc: "table key .example.test applies to sub.example.test", Rcpt: "user@sub.example.test",
			Policy:  []string{".example.test secure"},
			Zone:    []string{"sub.example.test. IN MX 10 mx.example.test.", "mx.example.test. IN A 127.0.1.20"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}},
			Oracle:  oracle("defer", "4.7.5", notVerified, "Untrusted")},
		{Name: "oracle/secure-dot-nexthop", Desc: "secure: MX under the nexthop domain matches dot-nexthop", Rcpt: stdRcpt,
			Policy: []string{"example.test secure"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}},
			Oracle: oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/secure-explicit-match", Desc: "secure: explicit match list", Rcpt: "user@fastmail.test",
			Policy: []string{"fastmail.test secure match=messagingengine.test:.messagingengine.test"}, Zone: fastZone, Servers: fastSrv,
			Oracle: oracle("deliver", "2.0.0", okReason, "Verified")},
		{Name: "oracle/verify-expired", Desc: "verify: expired certificate", Rcpt: stdRcpt,
			Policy: []string{"example.test verify"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr, Cert: "expired"}},
			Oracle: oracle("defer", "4.7.5", notVerified, "Untrusted")},
		{Name: "oracle/verify-wrong-ca", Desc: "verify: certificate from an untrusted CA", Rcpt: stdRcpt,
			Policy: []string{"example.test verify"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr, Cert: "wrongca"}},
			Oracle: oracle("defer", "4.7.5", notVerified, "Untrusted")},
		{Name: "oracle/wildcard-verify", Desc: "verify: *.example.test matches one label", Rcpt: stdRcpt,
			Policy: []string{"example.test verify"}, Zone: stdZone, Servers: []Server{{Addr: stdAddr, Cert: "wild-example"}},
			Oracle: oracle("deliver", "2.0.0", okReason, "Verified")},
	}
}

// MatrixCases is the generated matrix: each factor varied against the standard destination.
func MatrixCases(cs *Certs) []Case {
	var out []Case
	add := func(name, desc string, c Case) {
		c.Name, c.Desc = name, desc
		if c.Rcpt == "" {
			c.Rcpt = stdRcpt
		}
		if c.Zone == nil {
			c.Zone = stdZone
		}
		out = append(out, c)
	}
	tlsaGood := "_25._tcp.mx.example.test. IN TLSA 3 1 1 " + cs.TLSA("mx-example", 1, 1)

	// 1. Levels x certificate kinds and STARTTLS behaviour (matrix.md's world).
	levels := []string{"none", "may", "encrypt", "fingerprint", "verify", "secure", "dane", "dane-only"}
	scenarios := []struct {
		name string
		srv  Server
	}{
		{"good", Server{Cert: "mx-example"}},
		{"missing-intermediate", Server{Cert: "mx-example", Send: "leaf"}},
		{"full-chain", Server{Cert: "mx-example", Send: "full"}},
		{"other-name", Server{Cert: "other-name"}},
		{"selfsigned", Server{Cert: "selfsigned"}},
		{"expired", Server{Cert: "expired"}},
		{"not-yet-valid", Server{Cert: "notyet"}},
		{"wrong-ca", Server{Cert: "wrongca"}},
		{"cn-only", Server{Cert: "cn-only"}},
		{"wildcard", Server{Cert: "wild-example"}},
		{"wildcard-two-labels", Server{Cert: "deep-wild"}},
		{"no-names", Server{Cert: "no-names"}},
		{"direct-root", Server{Cert: "direct-root"}},
		{"no-starttls", Server{}},
		{"starttls-refused", Server{Cert: "mx-example", STARTTLSReply: "454 4.7.0 TLS not available due to local problem"}},
	}
	for _, lv := range levels {
		for _, sc := range scenarios {
			entry := "example.test " + lv
			if lv == "fingerprint" {
				entry += " match=" + cs.FP("mx-example", "sha256")
			}
			srv := sc.srv
			srv.Addr = stdAddr
			add(fmt.Sprintf("level/%s/%s", lv, sc.name), fmt.Sprintf("§3.1 level %s against a %s server (TLSA 3 1 1 of mx-example)", lv, sc.name),
				Case{Policy: []string{entry}, Zone: withZone(tlsaGood), Servers: []Server{srv}})
		}
	}

	// 2. Match lists at verify and secure.
	matches := []string{"hostname", "nexthop", "dot-nexthop", "example.test", ".example.test", "mx.example.test",
		"nexthop:hostname", "MX.EXAMPLE.TEST", "other.test:.example.test"}
	for _, lv := range []string{"verify", "secure"} {
		for _, m := range matches {
			for _, cert := range []string{"mx-example", "mx-example-dom", "wild-example"} {
				add(fmt.Sprintf("match/%s/%s/%s", lv, m, cert), "§4.2 match list "+m+" at "+lv,
					Case{Policy: []string{"example.test " + lv + " match=" + m}, Servers: []Server{{Addr: stdAddr, Cert: cert}}})
			}
		}
	}
	// Wildcards and names against other MX names.
	for _, mx := range []struct{ name, cert string }{
		{"a.mx.example.test", "deep-wild"}, {"a.sub.example.test", "wild-example"}, {"a.sub.example.test", "sub-wild"},
		{"mx.example.test", "upper-san"}, {"mx.example.test", "cn-mismatch-san"}, {"mx.example.test", "cn-only-wild"},
		{"smtp.example.test", "mail-example"}, {"mx.xn--bcher-kva.test", "idn-mx"},
	} {
		add("names/verify/"+mx.name+"/"+mx.cert, "§4.2 hostname match of "+mx.name+" against "+mx.cert,
			Case{Policy: []string{"example.test verify"},
				Zone:    []string{"example.test. IN MX 10 " + mx.name + ".", mx.name + ". IN A 127.0.1.20"},
				Servers: []Server{{Addr: stdAddr, Cert: mx.cert}}})
	}

	// 3. Fingerprint digests and forms.
	for _, alg := range []string{"md5", "sha1", "sha256", "sha512"} {
		for _, kind := range []string{"cert", "pubkey"} {
			fp := cs.FP("mx-example", alg)
			if kind == "pubkey" {
				fp = cs.PKFP("mx-example", alg)
			}
			add("fingerprint/"+alg+"/"+kind, "§5.1 fingerprint "+kind+" digest with smtp_tls_fingerprint_digest="+alg,
				Case{MainCF: []string{"smtp_tls_fingerprint_digest = " + alg},
					Policy: []string{"example.test fingerprint match=" + fp}, Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
		}
	}
	fp := cs.FP("mx-example", "sha256")
	for _, f := range []struct{ name, match string }{
		{"wrong-digest-sha1-value", cs.FP("mx-example", "sha1")},
		{"lower-case", strings.ToLower(fp)},
		{"no-colons", strings.ReplaceAll(fp, ":", "")},
		{"comma-list", "00:11," + fp},
		{"other-cert", cs.FP("other-name", "sha256")},
		{"intermediate", cs.FP("inter", "sha256")},
	} {
		add("fingerprint/form/"+f.name, "§5.2 fingerprint match form: "+f.name,
			Case{Policy: []string{"example.test fingerprint match=" + f.match}, Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	}

	// 4. TLSA sets.
	rr := func(u, s, m int, name string) string {
		return fmt.Sprintf("_25._tcp.mx.example.test. IN TLSA %d %d %d %s", u, s, m, cs.TLSA(name, s, m))
	}
	tlsaSets := []struct {
		name    string
		records []string
		send    string
		cert    string
	}{
		{"3-1-1", []string{rr(3, 1, 1, "mx-example")}, "", ""},
		{"3-0-1", []string{rr(3, 0, 1, "mx-example")}, "", ""},
		{"3-1-2", []string{rr(3, 1, 2, "mx-example")}, "", ""},
		{"3-0-2", []string{rr(3, 0, 2, "mx-example")}, "", ""},
		{"3-1-0", []string{rr(3, 1, 0, "mx-example")}, "", ""},
		{"3-0-0", []string{rr(3, 0, 0, "mx-example")}, "", ""},
		{"2-0-1-inter", []string{rr(2, 0, 1, "inter")}, "", ""},
		{"2-1-1-inter", []string{rr(2, 1, 1, "inter")}, "", ""},
		{"2-0-1-root-not-sent", []string{rr(2, 0, 1, "rootca")}, "", ""},
		{"2-0-1-root-sent", []string{rr(2, 0, 1, "rootca")}, "full", ""},
		{"2-0-1-otherca", []string{rr(2, 0, 1, "otherca")}, "", ""},
		// OpenSSL 3.0 searches 2 0 0 certificates before the peer's: the self-signed root
		// of the record, not the cross-signed copy the server sends, completes the chain.
		{"2-0-0-root-cross-signed-copy-sent", []string{rr(2, 0, 0, "rootca")}, "cross", ""},
		{"2-0-1-root-cross-signed-copy-sent", []string{rr(2, 0, 1, "rootca")}, "cross", ""},
		{"2-0-1-inter-wrong-name", []string{rr(2, 0, 1, "inter")}, "", "other-name"},
		{"3-1-1-expired", []string{rr(3, 1, 1, "expired")}, "", "expired"},
		{"stale-and-good", []string{rr(3, 1, 1, "other-name"), rr(3, 1, 1, "mx-example")}, "", ""},
		{"stale-only", []string{rr(3, 1, 1, "other-name")}, "", ""},
		{"unusable-usage-0", []string{rr(0, 0, 1, "rootca")}, "", ""},
		{"unusable-usage-1", []string{rr(1, 0, 1, "mx-example")}, "", ""},
		{"unusable-mtype-3", []string{"_25._tcp.mx.example.test. IN TLSA 3 1 3 " + cs.TLSA("mx-example", 1, 1)}, "", ""},
	}
	for _, lv := range []string{"dane", "dane-only"} {
		for _, ts := range tlsaSets {
			cert := ts.cert
			if cert == "" {
				cert = "mx-example"
			}
			add("tlsa/"+lv+"/"+ts.name, "§6.3 DANE TLSA set "+ts.name+" at "+lv,
				Case{Policy: []string{"example.test " + lv}, Zone: withZone(ts.records...),
					Servers: []Server{{Addr: stdAddr, Cert: cert, Send: ts.send}}})
		}
	}

	// 5. DNS security.
	for _, lv := range []string{"may", "dane", "dane-only", "verify"} {
		add("dns/insecure-mx/"+lv, "§6.1 MX in an unsigned zone at "+lv,
			Case{Rcpt: "user@insecure.test", Policy: []string{"insecure.test " + lv},
				Zone: []string{"insecure.test. IN MX 10 mx.insecure.test.", "mx.insecure.test. IN A 127.0.1.30",
					"_25._tcp.mx.insecure.test. IN TLSA 3 1 1 " + cs.TLSA("insecure-mx", 1, 1)},
				Servers: []Server{{Addr: "127.0.1.30:25", Cert: "insecure-mx"}}})
		add("dns/bogus/"+lv, "§6.2 bogus DNSSEC at "+lv,
			Case{Rcpt: "user@bogus.test", Policy: []string{"bogus.test " + lv},
				Zone:    []string{"bogus.test. IN MX 10 mx.bogus.test.", "mx.bogus.test. IN A 127.0.1.40"},
				Servers: []Server{{Addr: "127.0.1.40:25", Cert: "selfsigned"}}})
		add("dns/signed-mx-insecure-host/"+lv, "§6.2 signed MX pointing into an unsigned zone at "+lv,
			Case{Policy: []string{"example.test " + lv},
				Zone: []string{"example.test. IN MX 10 mx.insecure.test.", "mx.insecure.test. IN A 127.0.1.30",
					"_25._tcp.mx.insecure.test. IN TLSA 3 1 1 " + cs.TLSA("insecure-mx", 1, 1)},
				Servers: []Server{{Addr: "127.0.1.30:25", Cert: "insecure-mx"}}})
		add("dns/cname-mx/"+lv, "§6.2 MX host that is a CNAME at "+lv,
			Case{Policy: []string{"example.test " + lv},
				Zone: []string{"example.test. IN MX 10 mail.example.test.", "mail.example.test. IN CNAME mx.example.test.",
					"mx.example.test. IN A 127.0.1.20", tlsaGood},
				Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
		add("dns/no-mx/"+lv, "§6.2 no MX: the domain's own address at "+lv,
			Case{Policy: []string{"example.test " + lv},
				Zone:    []string{"example.test. IN A 127.0.1.20", "_25._tcp.example.test. IN TLSA 3 1 1 " + cs.TLSA("mx-example-dom", 1, 1)},
				Servers: []Server{{Addr: stdAddr, Cert: "mx-example-dom"}}})
	}
	add("dns/nxdomain", "§10.1 recipient domain does not exist",
		Case{Rcpt: "user@nowhere.test", Policy: []string{"nowhere.test verify"}, Zone: stdZone})
	add("dns/null-mx", "RFC 7505 null MX: bounce 5.1.0 (nullMX)",
		Case{Policy: []string{"example.test may"}, Zone: []string{"example.test. IN MX 0 ."},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	add("dns/mx-without-address", "§10.1 the sole MX host has no address record: bounce 5.4.4",
		Case{Policy: []string{"example.test may"}, Zone: []string{"example.test. IN MX 10 mx.example.test.", `mx.example.test. IN TXT "no address"`},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	add("dns/mx-without-address-then-good", "§10.1 an MX host without an address is skipped; the next one delivers",
		Case{Policy: []string{"example.test verify"}, Zone: []string{"example.test. IN MX 10 mx0.example.test.", "example.test. IN MX 20 mx.example.test.",
			`mx0.example.test. IN TXT "no address"`, "mx.example.test. IN A 127.0.1.20"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})

	for _, lv := range []string{"may", "encrypt", "verify"} {
		add("starttls/refused-5xx/"+lv, "§3.2 STARTTLS refused with a 5xx reply at "+lv,
			Case{Policy: []string{"example.test " + lv},
				Servers: []Server{{Addr: stdAddr, Cert: "mx-example", STARTTLSReply: "554 5.7.3 TLS refused by policy"}}})
	}

	// 6. Table key forms and transport next hops.
	keyForms := []struct {
		name      string
		transport []string
		policy    []string
		port      string
	}{
		{"bracket-host", []string{"example.test smtp:[mx.example.test]"}, []string{"[mx.example.test] secure"}, "25"},
		{"bracket-host-unused-domain-key", []string{"example.test smtp:[mx.example.test]"}, []string{"example.test secure match=other.test"}, "25"},
		{"bracket-port-key-without-port", []string{"example.test smtp:[mx.example.test]:2525"}, []string{"[mx.example.test] secure match=other.test"}, "2525"},
		{"host-port-mx", []string{"example.test smtp:example.test:2525"}, []string{"example.test:2525 verify"}, "2525"},
		{"host-port-mx-domain-key", []string{"example.test smtp:example.test:2525"}, []string{"example.test encrypt"}, "2525"},
		{"parent-dot-key", []string{"example.test smtp:[mx.example.test]"}, []string{".example.test secure match=other.test"}, "25"},
		{"bracket-ip", []string{"example.test smtp:[127.0.1.20]"}, []string{"[127.0.1.20] verify match=mx.example.test"}, "25"},
		{"bracket-ip-hostname", []string{"example.test smtp:[127.0.1.20]"}, []string{"[127.0.1.20] verify"}, "25"},
		{"relayhost-like-transport-wildcard", []string{"* smtp:[mx.example.test]"}, []string{"[mx.example.test] fingerprint match=" + fp}, "25"},
		{"case-folded-key", []string{"example.test smtp:[MX.Example.Test]"}, []string{"[mx.example.test] secure"}, "25"},
	}
	for _, k := range keyForms {
		add("key/"+k.name, "§2.1 policy table key form "+k.name,
			Case{Transport: k.transport, Policy: k.policy, Zone: withZone("example.test. IN A 127.0.1.20"),
				Servers: []Server{{Addr: "127.0.1.20:" + k.port, Cert: "mx-example"}}})
	}

	// relayhost forms: the relayhost string is the policy lookup key.
	for _, r := range []struct{ name, relay, entry string }{
		{"bracket", "[mx.example.test]", "[mx.example.test] secure"},
		{"bracket-domain-key-unused", "[mx.example.test]", "example.test secure match=other.test"},
		{"mx-form", "example.test", "example.test secure"},
		{"bracket-port", "[mx.example.test]:2525", "[mx.example.test]:2525 verify"},
	} {
		port := "25"
		if strings.HasSuffix(r.relay, ":2525") {
			port = "2525"
		}
		add("relayhost/"+r.name, "§2.1 relayhost "+r.relay+" is the policy lookup key",
			Case{Rcpt: "user@elsewhere.test", MainCF: []string{"relayhost = " + r.relay}, Policy: []string{r.entry},
				Zone: withZone("example.test. IN A 127.0.1.20"), Servers: []Server{{Addr: "127.0.1.20:" + port, Cert: "mx-example"}}})
	}
	// DANE without DNSSEC support, and levels from main.cf only.
	for _, lv := range []string{"dane", "dane-only"} {
		add("dns-support/enabled/"+lv, "§6.1 "+lv+" with smtp_dns_support_level = enabled (no DNSSEC)",
			Case{MainCF: []string{"smtp_dns_support_level = enabled"}, Policy: []string{"example.test " + lv},
				Zone: withZone(tlsaGood), Servers: []Server{{Addr: stdAddr, Cert: "selfsigned"}}})
	}
	for _, lv := range []string{"dane", "secure", "encrypt", "none"} {
		add("global/"+lv, "§2.4 smtp_tls_security_level = "+lv+" with an empty policy table",
			Case{MainCF: []string{"smtp_tls_security_level = " + lv}, Zone: withZone(tlsaGood),
				Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	}

	// 7. Table errors and invalid entries.
	errs := []struct{ name, entry string }{
		{"unknown-level", "example.test bogus-level"},
		{"unknown-attribute", "example.test secure frobnicate=yes"},
		{"attribute-without-value", "example.test secure match"},
		{"empty-match", "example.test secure match="},
		{"match-on-may", "example.test may match=other.test"},
		{"fingerprint-without-match", "example.test fingerprint"},
		{"dane-with-match", "example.test dane match=other.test"},
		{"bad-protocols", "example.test encrypt protocols=TLSv9"},
		{"level-only-whitespace", "example.test   "},
		{"ciphers-high", "example.test encrypt ciphers=high"},
		{"exclude-aNULL", "example.test encrypt exclude=aNULL"},
		{"tafile-missing", "example.test verify tafile=/nonexistent/ta.pem"},
	}
	for _, e := range errs {
		add("table/"+e.name, "§1.4 table entry "+e.name, Case{Policy: []string{e.entry}, Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	}
	for _, lv := range []string{"verify", "may"} {
		add("main/connection-reuse-no-tlsproxy/"+lv, "smtp_tls_connection_reuse = yes without a tlsproxy service in master.cf, level "+lv,
			Case{MainCF: []string{"smtp_tls_connection_reuse = yes"}, Policy: []string{"example.test " + lv},
				Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	}
	for _, c := range [][2]string{{"mixed-case-rcpt", "user@EXAMPLE.Test"}, {"lower-case-rcpt", "user@example.test"}} {
		name, rcpt := c[0], c[1]
		add("table/regexp-case-sensitive/"+name, "regexp: tables see the next hop as the recipient wrote it; flag i makes the pattern case-sensitive",
			Case{Rcpt: rcpt, MainCF: []string{"smtp_tls_policy_maps = regexp:/etc/postfix/tls_policy"},
				Policy: []string{`/^example\.test$/i secure match=nomatch.test`}, Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	}
	add("table/fingerprint-all-malformed-main-cf-match", "§5.1 every match= value malformed, smtp_tls_fingerprint_cert_match in main.cf holds the pin",
		Case{MainCF: []string{"smtp_tls_fingerprint_cert_match = " + cs.FP("mx-example", "sha256")}, Policy: []string{"example.test fingerprint match=zz:zz"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	// Sender-dependent routing (trivial-rewrite resolve.c): the sender picks the relay, and
	// so the policy table key.
	relay := Case{MainCF: []string{"sender_dependent_relayhost_maps = texthash:/etc/postfix/sender_relay"},
		Files:  map[string]string{"/etc/postfix/sender_relay": "@conformance.test [relay.example.test]\n"},
		Policy: []string{"[relay.example.test] verify match=nomatch.test"}, Zone: withZone("relay.example.test. IN A 127.0.1.20"),
		Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}}
	add("route/sender-dependent-relayhost/match", "sender_dependent_relayhost_maps: @domain of the sender picks [relay.example.test]", relay)
	other := relay
	other.Sender = "someone@other.test"
	add("route/sender-dependent-relayhost/other-sender", "sender_dependent_relayhost_maps: another sender's domain has no entry, the recipient domain is the next hop", other)
	xport := relay
	xport.MainCF = []string{"sender_dependent_default_transport_maps = texthash:/etc/postfix/sender_relay"}
	xport.Files = map[string]string{"/etc/postfix/sender_relay": "sender@conformance.test smtp:[relay.example.test]\n"}
	add("route/sender-dependent-default-transport", "sender_dependent_default_transport_maps: the sender's transport:nexthop replaces default_transport", xport)
	add("table/duplicate-key", "dict_thash.c: a texthash: table holding a key twice is unavailable (lookup error)",
		Case{Policy: []string{"example.test secure match=mx.example.test", "example.test secure match=other.test"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	add("table/global-secure-miss", "§2.4 table miss falls back to smtp_tls_security_level",
		Case{MainCF: []string{"smtp_tls_security_level = secure"}, Policy: []string{"other.test none"},
			Servers: []Server{{Addr: stdAddr, Cert: "other-name"}}})
	add("table/none-beats-global-secure", "§2.4 a table hit beats the global level",
		Case{MainCF: []string{"smtp_tls_security_level = secure"}, Policy: []string{"example.test none"},
			Servers: []Server{{Addr: stdAddr, Cert: "other-name"}}})
	add("table/cafile-inter-only", "§10.2 smtp_tls_CAfile holding only the intermediate",
		Case{MainCF: []string{"smtp_tls_CAfile = " + cs.Path("cafile-inter.pem")}, Policy: []string{"example.test verify"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	add("table/cafile-root-inter-leafonly", "§9.39 CAfile with root and intermediate, server sends only the leaf",
		Case{MainCF: []string{"smtp_tls_CAfile = " + cs.Path("cafile-root+inter.pem")}, Policy: []string{"example.test verify"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example", Send: "leaf"}}})
	add("table/cafile-missing", "§2.4 item 5: smtp_tls_CAfile naming a missing file",
		Case{MainCF: []string{"smtp_tls_CAfile = /nonexistent/ca.pem"}, Policy: []string{"example.test verify"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	for _, lv := range []string{"may", "verify"} {
		add("table/capath-missing/"+lv, "§2.4 item 5: smtp_tls_CApath naming a missing directory does not stop the TLS engine, level "+lv,
			Case{MainCF: []string{"smtp_tls_CAfile =", "smtp_tls_CApath = /nonexistent/rootcas/"}, Policy: []string{"example.test " + lv},
				Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	}
	add("table/cafile-missing-at-may", "§2.4 item 5: smtp_tls_CAfile naming a missing file stops the TLS engine: may sends in plaintext",
		Case{MainCF: []string{"smtp_tls_CAfile = /nonexistent/ca.pem"}, Policy: []string{"example.test may"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})
	add("table/tafile", "§6.5 tafile= names the trust anchor for verify",
		Case{Policy: []string{"example.test verify tafile=" + cs.Path("cafile-inter.pem")},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example"}}})

	// 8. The replies to MAIL FROM and RCPT TO after the TLS part (the library's recipient
	// probe; smtp_proto.c, smtp_trouble.c). The shared oracle's rejectrcpt/deferrcpt servers
	// gave the same texts with Postfix 3.7.11 (verify-rejectrcpt, verify-deferrcpt,
	// twomx-deferrcpt, twomx-rejectrcpt, may-plain-rejectrcpt).
	const (
		rcpt550 = "550 5.1.1 <user@example.test>: Recipient address rejected: User unknown"
		rcpt450 = "450 4.2.0 <user@example.test>: Recipient address rejected: Greylisted"
	)
	twoMX := []string{"example.test. IN MX 10 mx.example.test.", "example.test. IN MX 20 mx2.example.test.",
		"mx.example.test. IN A 127.0.1.20", "mx2.example.test. IN A 127.0.1.21"}
	for _, lv := range []string{"may", "verify", "dane"} {
		zone := stdZone
		if lv == "dane" {
			zone = withZone(tlsaGood)
		}
		add("rcpt/reject-550/"+lv, "smtp_rcpt_fail: RCPT TO 550 after the TLS part bounces the recipient 5.1.1, level "+lv,
			Case{Policy: []string{"example.test " + lv}, Zone: zone,
				Servers: []Server{{Addr: stdAddr, Cert: "mx-example", RcptReply: rcpt550}}})
		add("rcpt/defer-450/"+lv, "smtp_rcpt_fail: RCPT TO 450 on the last server defers the recipient 4.2.0, level "+lv,
			Case{Policy: []string{"example.test " + lv}, Zone: zone,
				Servers: []Server{{Addr: stdAddr, Cert: "mx-example", RcptReply: rcpt450}}})
	}
	add("rcpt/reject-550/may-plaintext", "smtp_rcpt_fail: RCPT TO 550 in a plaintext session at may (no STARTTLS) bounces",
		Case{Policy: []string{"example.test may"}, Servers: []Server{{Addr: stdAddr, RcptReply: rcpt550}}})
	add("rcpt/reject-550/multiline", "smtp_chat_resp: a multi-line RCPT TO reply is quoted with its lines joined by spaces",
		Case{Policy: []string{"example.test verify"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example", RcptReply: "550-5.1.1 <user@example.test>: Recipient address rejected:\n550 5.1.1 User unknown in virtual mailbox table"}}})
	add("rcpt/defer-450-then-second-mx", "smtp_rcpt_fail: RCPT TO 450 on a non-final MX is logged and the next MX delivers",
		Case{Policy: []string{"example.test verify"}, Zone: twoMX,
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example", RcptReply: rcpt450}, {Addr: "127.0.1.21:25", Cert: "wild-example"}}})
	add("rcpt/reject-550-first-mx", "smtp_rcpt_fail: RCPT TO 550 on the first MX bounces at once; the second MX is not tried",
		Case{Policy: []string{"example.test verify"}, Zone: twoMX,
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example", RcptReply: rcpt550}, {Addr: "127.0.1.21:25", Cert: "wild-example"}}})
	add("rcpt/not-verified-first", "§4.2 the TLS part decides first: a certificate Postfix rejects defers 4.7.5, RCPT TO is never sent",
		Case{Policy: []string{"example.test verify"},
			Servers: []Server{{Addr: stdAddr, Cert: "other-name", RcptReply: rcpt550}}})
	add("rcpt/mail-from-553", "smtp_mesg_fail: MAIL FROM 553 bounces the message",
		Case{Policy: []string{"example.test verify"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example", MailReply: "553 5.7.1 <sender@conformance.test>: Sender address rejected: Access denied"}}})
	add("rcpt/mail-from-451", "smtp_mesg_fail: MAIL FROM 451 on the last server defers the message",
		Case{Policy: []string{"example.test verify"},
			Servers: []Server{{Addr: stdAddr, Cert: "mx-example", MailReply: "451 4.3.0 Temporary lookup failure"}}})

	// 9. MTA-STS policies through a real postfix-mta-sts-resolver.
	mtastsCases(add)
	return out
}

// mtastsCases are the MTA-STS cases (issue 14 item 12): a real postfix-mta-sts-resolver,
// fed by the world's HTTPS server, answers both Postfix and the library through socketmap.
// Its answer is "secure match=<mx patterns, '*' dropped> servername=hostname" for an
// enforce policy (and for testing in its strict_testing zone), NOTFOUND otherwise.
func mtastsCases(add func(name, desc string, c Case)) {
	sts := func(mode string, mx ...string) *MTASTS { return &MTASTS{Mode: mode, MX: mx} }
	srv := func(cert string) []Server { return []Server{{Addr: stdAddr, Cert: cert}} }
	for _, k := range []struct {
		name, desc string
		c          Case
	}{
		{"enforce/mx-match", "enforce, mx: mx.example.test matches the MX host and its certificate",
			Case{MTASTS: sts("enforce", "mx.example.test"), Servers: srv("mx-example")}},
		{"enforce/mx-wildcard", "enforce, mx: *.example.test becomes match=.example.test",
			Case{MTASTS: sts("enforce", "*.example.test"), Servers: srv("mx-example")}},
		{"enforce/mx-wildcard-deep", "enforce, mx: *.example.test: Postfix's .example.test also matches a name two labels down",
			Case{MTASTS: sts("enforce", "*.example.test"), Servers: srv("deep-wild"),
				Zone: []string{"example.test. IN MX 10 a.mx.example.test.", "a.mx.example.test. IN A 127.0.1.20"}}},
		{"enforce/mx-list", "enforce with two mx: patterns, the second matches",
			Case{MTASTS: sts("enforce", "mx.other.test", "*.example.test"), Servers: srv("mx-example")}},
		{"enforce/mx-mismatch", "enforce, mx: mx.other.test does not name the MX host's certificate: Postfix defers",
			Case{MTASTS: sts("enforce", "mx.other.test"), Servers: srv("mx-example")}},
		{"enforce/wrong-ca", "enforce, the mx pattern matches but the certificate is from an untrusted CA",
			Case{MTASTS: sts("enforce", "mx.example.test"), Servers: srv("wrongca")}},
		{"enforce/no-starttls", "enforce, the MX host does not offer STARTTLS",
			Case{MTASTS: sts("enforce", "mx.example.test"), Servers: []Server{{Addr: stdAddr}}}},
		{"testing/mx-mismatch", "testing: the resolver answers NOTFOUND, the global level may delivers",
			Case{MTASTS: sts("testing", "mx.other.test"), Servers: srv("mx-example")}},
		{"testing-strict/mx-mismatch", "testing with strict_testing: enforced like enforce, Postfix defers",
			Case{MTASTS: &MTASTS{Mode: "testing", MX: []string{"mx.other.test"}, StrictTesting: true}, Servers: srv("mx-example")}},
		{"testing-strict/mx-match", "testing with strict_testing and a matching mx pattern delivers",
			Case{MTASTS: &MTASTS{Mode: "testing", MX: []string{"mx.example.test"}, StrictTesting: true}, Servers: srv("mx-example")}},
		{"none", "mode none: NOTFOUND, the global level may",
			Case{MTASTS: sts("none"), Servers: srv("other-name")}},
		{"fetch-fails", "the policy URL answers 404: no policy, NOTFOUND, the global level may",
			Case{MTASTS: &MTASTS{Mode: "enforce", MX: []string{"mx.other.test"}, HTTPStatus: 404}, Servers: srv("mx-example")}},
		{"texthash-first", "a texthash row before the socketmap wins over the MTA-STS policy",
			Case{MTASTS: &MTASTS{Mode: "enforce", MX: []string{"mx.other.test"}, PolicyFirst: true},
				Policy: []string{"example.test may"}, Servers: srv("mx-example")}},
		{"socketmap-first", "the socketmap before a texthash row: the MTA-STS policy wins",
			Case{MTASTS: sts("enforce", "mx.other.test"), Policy: []string{"example.test may"}, Servers: srv("mx-example")}},
	} {
		add("mta-sts/"+k.name, "MTA-STS via postfix-mta-sts-resolver: "+k.desc, k.c)
	}
}
