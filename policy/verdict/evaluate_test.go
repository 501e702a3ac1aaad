package verdict_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/policy/verdict"
	"github.com/postfixtls/postfixtls/smtpclient/reply"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/fingerprint"
	"github.com/postfixtls/postfixtls/internal/testkit/pki"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
)

// fixture is a small PKI and the usual next hop example.com with MX mx.example.com.
type fixture struct {
	h                                  *pki.Hierarchy
	mx, fastmail, other, expired, self *pki.Cert
	hop, fmHop                         policy.NextHop
	trust                              *verdict.Trust
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	h := pki.MustHierarchy(t)
	f := &fixture{h: h,
		mx:       h.Leaf(t, pki.Spec{CN: []string{"mx.example.com"}, DNS: []string{"mx.example.com"}}),
		fastmail: h.Leaf(t, pki.Spec{CN: []string{"*.messagingengine.com"}, DNS: []string{"*.messagingengine.com", "messagingengine.com"}}),
		other:    h.Leaf(t, pki.Spec{CN: []string{"mx.other.net"}, DNS: []string{"mx.other.net"}}),
		expired: h.Leaf(t, pki.Spec{CN: []string{"mx.example.com"}, DNS: []string{"mx.example.com"},
			NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}),
		self:  pki.Must(t, pki.Spec{CN: []string{"mx.example.com"}, DNS: []string{"mx.example.com"}}, nil),
		hop:   policy.NextHop{Nexthop: "example.com", Key: "example.com", Domain: "example.com", Port: 25, MX: true, Client: policy.SMTP},
		fmHop: policy.NextHop{Nexthop: "fastmail.fm", Key: "fastmail.fm", Domain: "fastmail.fm", Port: 25, MX: true, Client: policy.SMTP},
		trust: &verdict.Trust{CAs: []*x509.Certificate{h.Root.Cert}},
	}
	return f
}

func (f *fixture) chain(c *pki.Cert) verdict.Chain { return verdict.Chain{c.Cert, f.h.Inter.Cert} }

func pol(level policy.Level, match ...string) policy.Policy {
	p := policy.Policy{Level: level, ConfiguredLevel: level, Match: match, Ciphers: "medium", Protocols: ">=TLSv1",
		CAFile: "/etc/ssl/certs/ca-certificates.crt"}
	if level == policy.Fingerprint && len(match) > 0 {
		p.MatchFrom, p.FingerprintDigest = policy.MatchFromEntry, "sha256"
	}
	if level.IsDANE() {
		p.DANE = &policy.DANEConfig{InsecureMXPolicy: "dane", Digests: []string{"sha512", "sha256"}}
	}
	return p
}

func obsTLS(host string, chain verdict.Chain) verdict.Observation {
	return verdict.Observation{Host: host, Addr: "192.0.2.10", Port: 25, HaveMX: true, MXSecure: true, AddrSecure: true,
		STARTTLSOffered: true, TLSVersion: "TLSv1.3", Cipher: "TLS_AES_128_GCM_SHA256", Chain: chain}
}

func spkiHex(c *pki.Cert) string {
	s, _ := fingerprint.Compute(c.Cert, "sha256")
	return hex.EncodeToString(s.PublicKey)
}

type evalCase struct {
	name    string
	p       policy.Policy
	hop     *policy.NextHop
	obs     verdict.Observation
	opt     verdict.EvalOptions
	outcome verdict.Outcome
	dsn     policy.DSN
	reason  string
	trust   verdict.TrustWord
	log     string // a line that must be logged (exact)
	eff     policy.Level
	finding finding.Code
}

func runEval(t *testing.T, f *fixture, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hop := f.hop
			if c.hop != nil {
				hop = *c.hop
			}
			opt := c.opt
			if opt.Version == (policy.Version{}) {
				opt.Version = policy.V(3, 7, 11)
			}
			if opt.Trust == nil {
				opt.Trust = f.trust
			}
			d := verdict.Evaluate(c.p, hop, c.obs, opt)
			if d.Outcome != c.outcome {
				t.Fatalf("outcome %s, want %s (reason %q, log %q)", d.Outcome, c.outcome, d.Reason, d.Log)
			}
			if c.dsn != "" && d.DSN != c.dsn {
				t.Errorf("dsn %q, want %q", d.DSN, c.dsn)
			}
			if d.Reason != c.reason {
				t.Errorf("reason %q, want %q", d.Reason, c.reason)
			}
			if d.Trust != c.trust {
				t.Errorf("trust %q, want %q", d.Trust, c.trust)
			}
			if c.log != "" {
				found := false
				for _, l := range d.Log {
					found = found || l == c.log
				}
				if !found {
					t.Errorf("log lacks %q: %q", c.log, d.Log)
				}
			}
			if c.eff != 0 && d.EffectiveLevel != c.eff {
				t.Errorf("effective level %s, want %s", d.EffectiveLevel, c.eff)
			}
			if c.finding != "" {
				var codes []string
				for _, fd := range d.Findings {
					codes = append(codes, string(fd.Code))
				}
				if !strings.Contains(strings.Join(codes, " "), string(c.finding)) {
					t.Errorf("findings %v lack %s", codes, c.finding)
				}
			}
		})
	}
}

func TestEvaluateSTARTTLS(t *testing.T) {
	f := newFixture(t)
	noTLS := verdict.Observation{Host: "mx.example.com", Addr: "192.0.2.10", Port: 25}
	refused := func(code int, enh, text string) verdict.Observation {
		o := noTLS
		o.STARTTLSOffered = true
		o.STARTTLSReply = mustReply(code, enh, text)
		return o
	}
	runEval(t, f, []evalCase{
		{name: "§3.1 none: plaintext even when STARTTLS is offered", p: pol(policy.None), obs: obsTLS("mx.example.com", f.chain(f.mx)),
			outcome: verdict.OutcomeDeliver, dsn: "2.0.0"},
		{name: "§3.1 may: STARTTLS not offered, plaintext", p: pol(policy.May), obs: noTLS, outcome: verdict.OutcomeDeliver},
		{name: "§3.2 encrypt: STARTTLS not offered defers 4.7.4", p: pol(policy.Encrypt), obs: noTLS, outcome: verdict.OutcomeDefer,
			dsn: "4.7.4", reason: "TLS is required, but was not offered by host mx.example.com[192.0.2.10]", finding: finding.NoSTARTTLS},
		{name: "§3.2 encrypt: STARTTLS refused with 454 takes the server's DSN", p: pol(policy.Encrypt), obs: refused(454, "4.7.0", "TLS not available"),
			outcome: verdict.OutcomeDefer, dsn: "4.7.0", reason: "TLS is required, but host mx.example.com[192.0.2.10] refused to start TLS: 454 4.7.0 TLS not available",
			finding: finding.STARTTLSRefused},
		{name: "§3.2 refused without enhanced code: X.0.0 from the reply class", p: pol(policy.Verify, "hostname"), obs: refused(454, "", "TLS not available"),
			outcome: verdict.OutcomeDefer, dsn: "4.0.0", reason: "TLS is required, but host mx.example.com[192.0.2.10] refused to start TLS: 454 TLS not available"},
		{name: "§3.2 a 5xx STARTTLS reply bounces", p: pol(policy.Encrypt), obs: refused(554, "5.7.0", "go away"),
			outcome: verdict.OutcomeBounce, dsn: "5.7.0", reason: "TLS is required, but host mx.example.com[192.0.2.10] refused to start TLS: 554 5.7.0 go away"},
		{name: "§3.2 may: STARTTLS refused continues in plaintext", p: pol(policy.May), obs: refused(454, "4.7.0", "TLS not available"),
			outcome: verdict.OutcomeDeliver},
	})
}

func TestEvaluateHandshakeAndFallback(t *testing.T) {
	f := newFixture(t)
	hs := func(age time.Duration, sasl, probe bool) verdict.Observation {
		o := obsTLS("mx.example.com", nil)
		o.HandshakeError = "remote error: tls: handshake failure"
		o.MessageAge, o.SASL, o.AddressProbe = age, sasl, probe
		return o
	}
	bad := pol(policy.Encrypt)
	bad.Protocols = ">=TLSv1.4"
	old := pol(policy.Encrypt)
	old.Protocols = ">=TLSv1.2"
	grade := pol(policy.Encrypt)
	grade.Ciphers = "bogus"
	null := pol(policy.Encrypt)
	null.Ciphers, null.Exclude = "null", []string{"eNULL"} // set_cipher_grade adds eNULL at encrypt
	excl := pol(policy.Encrypt)
	excl.Exclude = []string{"!RC4"}
	runEval(t, f, []evalCase{
		{name: "§3.3 may: new message with a broken handshake is deferred", p: pol(policy.May), obs: hs(time.Minute, false, false),
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonHandshake, log: "SSL_connect error to mx.example.com[192.0.2.10]:25: -1"},
		{name: "§3.3 may: message older than minimal_backoff_time retries in plaintext", p: pol(policy.May), obs: hs(10*time.Minute, false, false),
			outcome: verdict.OutcomePlaintextRetry, reason: verdict.ReasonHandshake},
		{name: "§3.3 may: SASL credentials forbid the plaintext fallback", p: pol(policy.May), obs: hs(time.Hour, true, false),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonHandshake},
		{name: "§3.3 address probes fall back at once since 3.8", p: pol(policy.May), obs: hs(0, false, true), opt: verdict.EvalOptions{Version: policy.V(3, 8, 0)},
			outcome: verdict.OutcomePlaintextRetry, reason: verdict.ReasonHandshake},
		{name: "§3.3 address probes obey the age rule before 3.8", p: pol(policy.May), obs: hs(0, false, true),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonHandshake},
		{name: "§3.2 encrypt: handshake failure defers 4.7.5", p: pol(policy.Encrypt), obs: hs(time.Hour, false, false),
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonHandshake, finding: finding.HandshakeFailure},
		{name: "§7.3 invalid protocol list aborts TLS at handshake time", p: bad, obs: obsTLS("mx.example.com", f.chain(f.mx)),
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonHandshake, finding: finding.InvalidProtocols,
			log: `warning: mx.example.com[192.0.2.10]:25: Invalid TLS protocol list ">=TLSv1.4": aborting TLS session`},
		{name: "§7.3 >= is a syntax error before 3.6", p: old, obs: obsTLS("mx.example.com", f.chain(f.mx)), opt: verdict.EvalOptions{Version: policy.V(3, 5, 20)},
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonHandshake},
		{name: "§7.3 >= is fine from 3.6", p: old, obs: obsTLS("mx.example.com", f.chain(f.mx)),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustTrusted},
		{name: "§7.2 unknown cipher grade", p: grade, obs: obsTLS("mx.example.com", f.chain(f.mx)), outcome: verdict.OutcomeDefer,
			reason: verdict.ReasonHandshake, log: `warning: mx.example.com[192.0.2.10]:25: invalid cipher grade: "bogus"`, finding: finding.InvalidCiphers},
		{name: "§7.2 null grade at encrypt leaves no cipher", p: null, obs: obsTLS("mx.example.com", f.chain(f.mx)), outcome: verdict.OutcomeDefer,
			reason: verdict.ReasonHandshake, log: `warning: mx.example.com[192.0.2.10]:25: error setting cipher grade: "null"`},
		{name: "§7.2 exclusion with a unary operator", p: excl, obs: obsTLS("mx.example.com", f.chain(f.mx)), outcome: verdict.OutcomeDefer,
			reason: verdict.ReasonHandshake, log: `warning: mx.example.com[192.0.2.10]:25: invalid unary '!+-@' in cipher exclusion: !RC4`},
		{name: "§2.4 item 5 TLS engine unavailable: may runs in plaintext", p: pol(policy.May), obs: obsTLS("mx.example.com", f.chain(f.mx)),
			opt: verdict.EvalOptions{TLSEngineUnavailable: true}, outcome: verdict.OutcomeDeliver},
		{name: "§2.4 item 5 TLS engine unavailable: verify defers", p: pol(policy.Verify, "hostname"), obs: obsTLS("mx.example.com", f.chain(f.mx)),
			opt: verdict.EvalOptions{TLSEngineUnavailable: true}, outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonEngine},
	})
}

func TestEvaluateVerifyLevels(t *testing.T) {
	f := newFixture(t)
	fm := obsTLS("in1-smtp.messagingengine.com", f.chain(f.fastmail))
	leafOnly := obsTLS("mx.example.com", verdict.Chain{f.mx.Cert})
	interOnly := &verdict.Trust{CAs: []*x509.Certificate{f.h.Inter.Cert}}
	both := &verdict.Trust{CAs: []*x509.Certificate{f.h.Inter.Cert, f.h.Root.Cert}}
	badMatch := pol(policy.Secure, ".")
	ipHop := policy.NextHop{Nexthop: "[192.0.2.10]", Key: "[192.0.2.10]", Domain: "192.0.2.10", Port: 25, Client: policy.SMTP}
	ipObs := obsTLS("192.0.2.10", f.chain(f.mx))
	ipObs.HaveMX, ipObs.MXSecure = false, false
	old := func(p policy.Policy) policy.Policy { p.Protocols = "!SSLv2, !SSLv3"; return p }
	runEval(t, f, []evalCase{
		{name: "§4.5 fastmail verify: hostname matches the wildcard", p: pol(policy.Verify, "hostname"), hop: &f.fmHop, obs: fm,
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustVerified,
			log: "Verified TLS connection established to in1-smtp.messagingengine.com[192.0.2.10]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)"},
		{name: "§4.5 fastmail secure: hostname mismatch, Untrusted on 3.7", p: pol(policy.Secure, "nexthop", "dot-nexthop"), hop: &f.fmHop, obs: fm,
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "server certificate verification failed for in1-smtp.messagingengine.com[192.0.2.10]:25: num=62:hostname mismatch", finding: finding.SecureNexthopMismatch},
		{name: "§3.4 CA-valid misnamed certificate logs Trusted from 3.10.4", p: pol(policy.Secure, "nexthop", "dot-nexthop"), hop: &f.fmHop, obs: fm,
			opt: verdict.EvalOptions{Version: policy.V(3, 10, 4)}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustTrusted},
		{name: "§3.4 3.10.4+ (HISTORY 20250730): a CA-valid certificate failing an [address] next hop's IP check (num=64) still logs Untrusted",
			p: pol(policy.Verify, "hostname"), hop: &ipHop, obs: ipObs,
			opt: verdict.EvalOptions{Version: policy.V(3, 11, 6)}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "server certificate verification failed for 192.0.2.10[192.0.2.10]:25: num=64:IP address mismatch"},
		{name: "§3.4 3.10.13: IP address mismatch logs Untrusted", p: pol(policy.Verify, "hostname"), hop: &ipHop, obs: ipObs,
			opt: verdict.EvalOptions{Version: policy.V(3, 10, 13)}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted},
		{name: "§3.4 CA-valid misnamed certificate logs Untrusted in 3.6.0", p: pol(policy.Secure, "nexthop", "dot-nexthop"), hop: &f.fmHop, obs: fm,
			opt: verdict.EvalOptions{Version: policy.V(3, 6, 0)}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted},
		{name: "§3.2 <= 3.5: misnamed but trusted is 'not verified', logged Trusted", p: old(pol(policy.Secure, "nexthop", "dot-nexthop")), hop: &f.fmHop, obs: fm,
			opt: verdict.EvalOptions{Version: policy.V(3, 5, 25)}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustTrusted},
		{name: "§3.2 <= 3.5: untrusted chain is 'not trusted'", p: old(pol(policy.Verify, "hostname")), obs: leafOnly,
			opt: verdict.EvalOptions{Version: policy.V(3, 5, 25)}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotTrusted, trust: verdict.TrustUntrusted},
		{name: "§9.39 leaf only, root in CAfile: untrusted issuer = the intermediate", p: pol(policy.Verify, "hostname"), obs: leafOnly,
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "certificate verification failed for mx.example.com[192.0.2.10]:25: untrusted issuer /O=postfixtls tests/CN=Test Intermediate CA", finding: finding.MissingIntermediate},
		{name: "§9.39 intermediate and root in CAfile: Verified", p: pol(policy.Verify, "hostname"), obs: leafOnly, opt: verdict.EvalOptions{Trust: both},
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustVerified},
		{name: "§10.2 intermediate alone in CAfile: OpenSSL needs the root (num=2)", p: pol(policy.Verify, "hostname"), obs: leafOnly, opt: verdict.EvalOptions{Trust: interOnly},
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "CA certificate verification failed for mx.example.com[192.0.2.10]:25: num=2:unable to get issuer certificate"},
		{name: "§9.38 no CA configured: untrusted issuer of the root", p: pol(policy.Verify, "hostname"), obs: obsTLS("mx.example.com", f.chain(f.mx)),
			opt: verdict.EvalOptions{Trust: &verdict.Trust{}}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "certificate verification failed for mx.example.com[192.0.2.10]:25: untrusted issuer /O=postfixtls tests/CN=Test Root CA", finding: finding.NoCA},
		{name: "§9.40 expired certificate", p: pol(policy.Verify, "hostname"), obs: obsTLS("mx.example.com", f.chain(f.expired)),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "server certificate verification failed for mx.example.com[192.0.2.10]:25: certificate has expired", finding: finding.Expired},
		{name: "§3.4 self-signed certificate at verify", p: pol(policy.Verify, "hostname"), obs: obsTLS("mx.example.com", verdict.Chain{f.self.Cert}),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "certificate verification failed for mx.example.com[192.0.2.10]:25: self-signed certificate", finding: finding.SelfSigned},
		{name: "§3.1 may: CA-valid certificate for another name is Trusted", p: pol(policy.May), obs: obsTLS("mx.example.com", f.chain(f.other)),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustTrusted},
		{name: "§3.1 encrypt: self-signed is Untrusted but delivered", p: pol(policy.Encrypt), obs: obsTLS("mx.example.com", verdict.Chain{f.self.Cert}),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustUntrusted},
		{name: "§3.4 anonymous session at may", p: pol(policy.May), obs: obsTLS("mx.example.com", nil), outcome: verdict.OutcomeDeliver, trust: verdict.TrustAnonymous},
		{name: "§4.1 match=. installs nothing: num=1", p: badMatch, obs: obsTLS("mx.example.com", f.chain(f.mx)), outcome: verdict.OutcomeDefer,
			reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "server certificate verification failed for mx.example.com[192.0.2.10]:25: num=1:unspecified certificate verification error"},
		{name: "§9.42 secure match=nexthop vs MX certificate", p: pol(policy.Secure, "nexthop"), obs: obsTLS("mx.example.com", f.chain(f.mx)),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted, log: "server certificate verification failed for mx.example.com[192.0.2.10]:25: num=62:hostname mismatch"},
		{name: "§10.2 lowest depth wins: unknown root and wrong name report the name", p: pol(policy.Verify, "hostname"), obs: obsTLS("mx.example.com", f.chain(f.other)),
			opt: verdict.EvalOptions{Trust: &verdict.Trust{}}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "server certificate verification failed for mx.example.com[192.0.2.10]:25: num=62:hostname mismatch"},
	})
}

func TestEvaluateSkips(t *testing.T) {
	f := newFixture(t)
	inv := pol(policy.Secure)
	inv.Invalid, inv.DSN, inv.Reason = true, policy.InvalidDSN, policy.InvalidReason
	inv.Warnings = []string{`smtp_tls_policy_maps, next-hop destination "example.com": invalid attribute name: "servername"`}
	wrap := pol(policy.May)
	wrap.WrapperMode = true
	runEval(t, f, []evalCase{
		{name: "§1.4 invalid policy: no connection, client TLS configuration problem", p: inv, obs: obsTLS("mx.example.com", f.chain(f.mx)),
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: policy.InvalidReason, finding: finding.InvalidPolicy,
			log: "warning: TLS policy lookup for example.com/mx.example.com: client TLS configuration problem"},
		{name: "§2.4 wrappermode below encrypt skips the server", p: wrap, obs: obsTLS("mx.example.com", f.chain(f.mx)),
			outcome: verdict.OutcomeDefer, dsn: "4.3.0", reason: verdict.ReasonWrapperModeSkip, finding: finding.WrapperMode,
			log: `warning: smtp_tls_wrappermode requires "smtp_tls_security_level = encrypt" (or stronger)`},
		{name: "§6.2 MX lookup failure ends the attempt", p: pol(policy.Dane), obs: verdict.Observation{Host: "bogus.test", LookupError: "Host or domain name not found. Name service error for name=bogus.test type=MX: Host not found, try again"},
			outcome: verdict.OutcomeDefer, dsn: "4.4.3", reason: "Host or domain name not found. Name service error for name=bogus.test type=MX: Host not found, try again"},
	})
}

func TestEvaluateDANE(t *testing.T) {
	f := newFixture(t)
	withTLSA := func(chain verdict.Chain, recs ...string) verdict.Observation {
		o := obsTLS("mx.example.com", chain)
		o.TLSA = &verdict.TLSAObservation{BaseDomain: "mx.example.com", Records: recs}
		return o
	}
	good := "3 1 1 " + spkiHex(f.self)
	stale := "3 1 1 " + spkiHex(f.mx)
	insecureMX := withTLSA(verdict.Chain{f.self.Cert}, good)
	insecureMX.MXSecure = false
	lookupErr := obsTLS("mx.example.com", verdict.Chain{f.self.Cert})
	lookupErr.TLSA = &verdict.TLSAObservation{Error: "Host or domain name not found. Name service error for name=_25._tcp.mx.example.com type=TLSA: Host not found, try again"}
	insecureAddr := withTLSA(verdict.Chain{f.self.Cert}, stale)
	insecureAddr.AddrSecure = false
	forced := pol(policy.Dane)
	forced.DANE.ForceInsecureHostTLSA = true
	mayIns := pol(policy.Dane)
	mayIns.DANE.InsecureMXPolicy = "may"
	runEval(t, f, []evalCase{
		{name: "§6.4 DANE-EE match of a self-signed certificate", p: pol(policy.Dane), obs: withTLSA(verdict.Chain{f.self.Cert}, good),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustVerified, eff: policy.Dane},
		{name: "§6.4 stale 3 1 1 record: num=65", p: pol(policy.Dane), obs: withTLSA(verdict.Chain{f.self.Cert}, stale),
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted, finding: finding.TLSAStale,
			log: "server certificate verification failed for mx.example.com[192.0.2.10]:25: num=65:no matching DANE TLSA records"},
		{name: "§6.1 item 8 dane without TLSA records behaves as may", p: pol(policy.Dane), obs: withTLSA(verdict.Chain{f.self.Cert}),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustUntrusted, eff: policy.May},
		{name: "§6.1 item 8 dane-only without TLSA records defers", p: pol(policy.DaneOnly), obs: withTLSA(verdict.Chain{f.self.Cert}),
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: "no TLSA records found", finding: finding.DaneOnlyNoDNSSEC,
			log: "warning: TLS policy lookup for example.com/mx.example.com: no TLSA records found"},
		{name: "§6.1 item 7 TLSA lookup error defers even at dane", p: pol(policy.Dane), obs: lookupErr,
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: "TLSA lookup error for mx.example.com:25", finding: finding.TLSALookup,
			log: "warning: TLS policy lookup for example.com/mx.example.com: TLSA lookup error for mx.example.com:25"},
		{name: "§6.1 item 9 only PKIX usages: dane becomes encrypt", p: pol(policy.Dane), obs: withTLSA(verdict.Chain{f.self.Cert}, "1 1 1 "+spkiHex(f.self)),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustUntrusted, eff: policy.Encrypt},
		{name: "§6.1 item 9 only PKIX usages: dane-only defers", p: pol(policy.DaneOnly), obs: withTLSA(verdict.Chain{f.self.Cert}, "1 1 1 "+spkiHex(f.self)),
			outcome: verdict.OutcomeDefer, reason: "TLSA records unusable"},
		{name: "§6.1 item 6 dane-only with an insecure MX RRset", p: pol(policy.DaneOnly), obs: insecureMX,
			outcome: verdict.OutcomeDefer, reason: "non DNSSEC destination"},
		{name: "§6.2 insecure address records: no TLSA query, dane runs as may", p: pol(policy.Dane), obs: insecureAddr,
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustUntrusted, eff: policy.May},
		{name: "§6.2 smtp_tls_force_insecure_host_tlsa_lookup uses the records anyway", p: forced, obs: insecureAddr,
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, eff: policy.Dane, trust: verdict.TrustUntrusted},
		{name: "§6.1 item 6 insecure MX with insecure-MX policy may: opportunistic", p: mayIns, obs: insecureMX,
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustUntrusted, eff: policy.May},
		{name: "§6.1 item 11 halfdane success is logged Trusted", p: pol(policy.Dane), obs: insecureMX,
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustTrusted, eff: policy.HalfDane},
		{name: "§6.3 all records unusable at handshake: dane continues as encrypt", p: pol(policy.Dane), obs: withTLSA(verdict.Chain{f.self.Cert}, "3 1 1 0011"),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustUntrusted, eff: policy.Encrypt},
		{name: "§6.3 all records unusable at handshake: dane-only fails", p: pol(policy.DaneOnly), obs: withTLSA(verdict.Chain{f.self.Cert}, "3 1 1 0011"),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted},
	})
}

// TestEvaluatePre36TrustFlag: Postfix 2.11-3.5 match fingerprints and DANE-EE records
// themselves and leave the chain to OpenSSL's verification against the CAfile (without usable
// DANE-TA records), so a CA-valid chain that no pin or record matches logs "Trusted", and at
// the DANE levels fails "Server certificate not verified"; "not trusted" goes with
// "Untrusted" only. 3.6 and later use OpenSSL's DANE, where such a chain is Untrusted.
// Measured with 3.5.27 (conformance level/fingerprint/*, level/dane/*, tlsa/dane/stale-only,
// tlsa/dane/2-0-1-inter-wrong-name).
func TestEvaluatePre36TrustFlag(t *testing.T) {
	f := newFixture(t)
	v35 := verdict.EvalOptions{Version: policy.V(3, 5, 27)}
	otherFP, _ := fingerprint.Compute(f.other.Cert, "sha256")
	withTLSA := func(chain verdict.Chain, recs ...string) verdict.Observation {
		o := obsTLS("mx.example.com", chain)
		o.TLSA = &verdict.TLSAObservation{BaseDomain: "mx.example.com", Records: recs}
		return o
	}
	otherEE := "3 1 1 " + spkiHex(f.other)
	interSum := sha256.Sum256(f.h.Inter.Cert.Raw)
	interTA := "2 0 1 " + hex.EncodeToString(interSum[:])
	old := func(p policy.Policy) policy.Policy { p.Protocols = "!SSLv2, !SSLv3"; return p } // 3.5 knows no ">=" syntax
	runEval(t, f, []evalCase{
		{name: "3.5.27 fingerprint: a pin of another certificate, CA-valid chain: Trusted, not verified", p: old(pol(policy.Fingerprint, otherFP.CertString())),
			obs: obsTLS("mx.example.com", f.chain(f.mx)), opt: v35, outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonNotVerified, trust: verdict.TrustTrusted},
		{name: "3.5.27 fingerprint: a pin of another certificate, self-signed: Untrusted, not verified", p: old(pol(policy.Fingerprint, otherFP.CertString())),
			obs: obsTLS("mx.example.com", verdict.Chain{f.self.Cert}), opt: v35, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted},
		{name: "3.7.11 fingerprint: a pin of another certificate, CA-valid chain: Untrusted", p: pol(policy.Fingerprint, otherFP.CertString()),
			obs: obsTLS("mx.example.com", f.chain(f.mx)), outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted},
		{name: "3.5.27 dane: a DANE-EE record of another key, CA-valid chain: Trusted, not verified", p: old(pol(policy.Dane)),
			obs: withTLSA(f.chain(f.mx), otherEE), opt: v35, outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonNotVerified, trust: verdict.TrustTrusted},
		{name: "3.5.27 dane-only: a DANE-EE record of another key, CA-valid chain: Trusted, not verified", p: old(pol(policy.DaneOnly)),
			obs: withTLSA(f.chain(f.mx), otherEE), opt: v35, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustTrusted},
		{name: "3.5.27 dane: a DANE-EE record of another key, self-signed: Untrusted, not trusted", p: old(pol(policy.Dane)),
			obs: withTLSA(verdict.Chain{f.self.Cert}, otherEE), opt: v35, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotTrusted, trust: verdict.TrustUntrusted},
		{name: "3.7.11 dane: a DANE-EE record of another key, CA-valid chain: Untrusted", p: pol(policy.Dane),
			obs: withTLSA(f.chain(f.mx), otherEE), outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted},
		{name: "3.5.27 dane: a DANE-TA record matches, the name does not: Trusted, not verified", p: old(pol(policy.Dane)),
			obs: withTLSA(f.chain(f.other), interTA), opt: v35, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustTrusted},
	})
}

func TestEvaluateFingerprintAndTrustAnchors(t *testing.T) {
	f := newFixture(t)
	sha256fp, _ := fingerprint.Compute(f.mx.Cert, "sha256")
	sum := sha1.Sum(f.mx.Cert.Raw)
	sha1Pin := strings.ToUpper(hex.EncodeToString(sum[:]))
	ta := &verdict.Trust{TrustAnchors: map[string]*dane.TrustAnchors{}}
	interTA, err := dane.ReadTrustAnchors(strings.NewReader(string(f.h.Inter.PEM())), "/etc/postfix/inter.pem")
	if err != nil {
		t.Fatal(err)
	}
	expTA, err := dane.ReadTrustAnchors(strings.NewReader(string(f.expired.PEM())), "/etc/postfix/leaf.pem")
	if err != nil {
		t.Fatal(err)
	}
	ta.TrustAnchors["/etc/postfix/inter.pem"] = interTA
	ta.TrustAnchors["/etc/postfix/leaf.pem"] = expTA
	withTA := func(file string, match ...string) policy.Policy {
		p := pol(policy.Secure, match...)
		p.TrustAnchorFiles = []string{file}
		return p
	}
	runEval(t, f, []evalCase{
		{name: "§5.1 fingerprint: sha256 certificate digest matches", p: pol(policy.Fingerprint, sha256fp.CertString()), obs: obsTLS("mx.example.com", f.chain(f.mx)),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustVerified},
		{name: "§5.1 fingerprint: expired self-signed certificate still matches", p: pol(policy.Fingerprint, func() string { x, _ := fingerprint.Compute(f.self.Cert, "sha256"); return x.PublicKeyString() }()),
			obs: obsTLS("mx.example.com", verdict.Chain{f.self.Cert}), outcome: verdict.OutcomeDeliver, trust: verdict.TrustVerified},
		{name: "D-2 §5.2 SHA-1 pin with digest sha256: unusable, finding gives the sha256 value", p: pol(policy.Fingerprint, sha1Pin),
			obs: obsTLS("mx.example.com", f.chain(f.mx)), outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			finding: finding.FingerprintDigest,
			log:     "server certificate verification failed for mx.example.com[192.0.2.10]:25: num=1:unspecified certificate verification error"},
		{name: "D-1 §5.2 pin of another certificate: num=65", p: pol(policy.Fingerprint, sha256fp.CertString()), obs: obsTLS("mx.example.com", f.chain(f.other)),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted, finding: finding.FingerprintStale,
			log: "server certificate verification failed for mx.example.com[192.0.2.10]:25: num=65:no matching DANE TLSA records"},
		{name: "§6.5 tafile with the intermediate: Verified without any CAfile", p: withTA("/etc/postfix/inter.pem", "nexthop", "dot-nexthop"),
			obs: obsTLS("mx.example.com", verdict.Chain{f.mx.Cert}), opt: verdict.EvalOptions{Trust: ta}, outcome: verdict.OutcomeDeliver, trust: verdict.TrustVerified},
		{name: "§6.5 tafile holding the expired leaf itself: dates not checked", p: withTA("/etc/postfix/leaf.pem", "hostname"),
			obs: obsTLS("mx.example.com", verdict.Chain{f.expired.Cert}), opt: verdict.EvalOptions{Trust: ta}, outcome: verdict.OutcomeDeliver, trust: verdict.TrustVerified},
		{name: "§6.5 tafile leaf: names are still checked", p: withTA("/etc/postfix/leaf.pem", "nexthop"),
			obs: obsTLS("mx.example.com", verdict.Chain{f.expired.Cert}), opt: verdict.EvalOptions{Trust: ta}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted},
		{name: "§6.5 tafile intermediate: an expired leaf below it fails", p: withTA("/etc/postfix/inter.pem", "hostname"),
			obs: obsTLS("mx.example.com", verdict.Chain{f.expired.Cert}), opt: verdict.EvalOptions{Trust: ta}, outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted,
			log: "server certificate verification failed for mx.example.com[192.0.2.10]:25: certificate has expired"},
	})
}

// TestFindingSeedFastmail pins the seed finding: secure for fastmail.fm with MX
// in1-smtp.messagingengine.com and a *.messagingengine.com certificate.
func TestFindingSeedFastmail(t *testing.T) {
	f := newFixture(t)
	obs := obsTLS("in1-smtp.messagingengine.com", f.chain(f.fastmail))
	obs.TLSA = &verdict.TLSAObservation{BaseDomain: "in1-smtp.messagingengine.com", Records: []string{"3 1 1 " + spkiHex(f.fastmail)}}
	d := verdict.Evaluate(pol(policy.Secure, "nexthop", "dot-nexthop"), f.fmHop, obs, verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: f.trust})
	if len(d.Findings) == 0 || d.Findings[0].Code != finding.SecureNexthopMismatch {
		t.Fatalf("findings %+v", d.Findings)
	}
	fd := d.Findings[0]
	for _, want := range []string{"fastmail.fm and its subdomains", "*.messagingengine.com, messagingengine.com"} {
		if !strings.Contains(fd.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, fd.Summary)
		}
	}
	if fd.Fixes[0].String() != "fastmail.fm secure match=.messagingengine.com" || fd.Fixes[0].IsDowngrade() {
		t.Errorf("first fix %+v", fd.Fixes[0])
	}
	byText := map[string]finding.Fix{}
	for _, x := range fd.Fixes {
		byText[x.String()] = x
	}
	// dane and verify deliver too, but give something up: they are labelled and come last.
	if x, ok := byText["fastmail.fm dane"]; !ok || !x.IsDowngrade() {
		t.Errorf("TLSA published but no labelled dane fix: %q", fd.FixLines())
	}
	if x, ok := byText["fastmail.fm verify match=hostname"]; !ok || !strings.Contains(x.Downgrade, "MX lookup") {
		t.Errorf("no labelled verify fix: %q", fd.FixLines())
	}
	// Every fix was proven by judging the observation again.
	for _, fx := range fd.Fixes {
		if !strings.HasPrefix(fx.Proven, "delivers at ") {
			t.Errorf("fix %q not proven: %q", fx, fx.Proven)
		}
	}
}

// TestFindingFingerprintDigest: the pin is the SHA-1 of the certificate; the finding gives
// the SHA-256 value and that value delivers.
func TestFindingFingerprintDigest(t *testing.T) {
	f := newFixture(t)
	sum := sha1.Sum(f.mx.Cert.Raw)
	obs := obsTLS("mx.example.com", f.chain(f.mx))
	d := verdict.Evaluate(pol(policy.Fingerprint, hex.EncodeToString(sum[:])), f.hop, obs, verdict.EvalOptions{Version: policy.V(3, 7, 11)})
	if len(d.Findings) == 0 || d.Findings[0].Code != finding.FingerprintDigest {
		t.Fatalf("findings %+v", d.Findings)
	}
	want, _ := fingerprint.Compute(f.mx.Cert, "sha256")
	if d.Findings[0].Fixes[0].String() != "example.com fingerprint match="+want.CertString() {
		t.Errorf("fix %q", d.Findings[0].Fixes[0])
	}
	if !strings.Contains(d.Findings[0].Summary, "SHA-1") || !strings.Contains(d.Findings[0].Summary, "SHA-256") {
		t.Errorf("summary %q", d.Findings[0].Summary)
	}
}

// TestFindingTLSARollover: the record to publish is computed from the presented key.
func TestFindingTLSARollover(t *testing.T) {
	f := newFixture(t)
	obs := obsTLS("mx.example.com", verdict.Chain{f.self.Cert})
	obs.TLSA = &verdict.TLSAObservation{BaseDomain: "mx.example.com", Records: []string{"3 1 1 " + spkiHex(f.mx)}}
	d := verdict.Evaluate(pol(policy.Dane), f.hop, obs, verdict.EvalOptions{Version: policy.V(3, 7, 11)})
	if len(d.Findings) == 0 || d.Findings[0].Code != finding.TLSAStale {
		t.Fatalf("findings %+v", d.Findings)
	}
	want := "_25._tcp.mx.example.com. IN TLSA 3 1 1 " + spkiHex(f.self)
	if d.Findings[0].Fixes[0].String() != want {
		t.Errorf("fix %q, want %q", d.Findings[0].Fixes[0], want)
	}
	// Publishing it makes DANE pass.
	obs.TLSA.Records = append(obs.TLSA.Records, strings.TrimPrefix(want, "_25._tcp.mx.example.com. IN TLSA "))
	if dd := verdict.Evaluate(pol(policy.Dane), f.hop, obs, verdict.EvalOptions{Version: policy.V(3, 7, 11)}); dd.Outcome != verdict.OutcomeDeliver {
		t.Errorf("after publishing: %s", dd.Reason)
	}
}

// selfSignedWith makes a self-signed RSA CA and a leaf below it with the given signature
// algorithm and leaf extended key usages.
func selfSignedWith(t *testing.T, alg x509.SignatureAlgorithm, eku []x509.ExtKeyUsage) (root, leaf *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "RSA Root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, SignatureAlgorithm: alg}
	der, err := x509.CreateCertificate(rand.Reader, rt, rt, &key.PublicKey, key)
	if err != nil {
		t.Skipf("cannot make a %s certificate with this Go: %v", alg, err)
	}
	root, _ = x509.ParseCertificate(der)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mx.example.com"}, DNSNames: []string{"mx.example.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: eku, SignatureAlgorithm: alg}
	der, err = x509.CreateCertificate(rand.Reader, lt, root, &key.PublicKey, key)
	if err != nil {
		t.Skipf("cannot make a %s certificate with this Go: %v", alg, err)
	}
	leaf, _ = x509.ParseCertificate(der)
	return root, leaf
}

// TestChainDifferencesFromGo pins where VerifyChain (OpenSSL) and crypto/x509 disagree.
func TestChainDifferencesFromGo(t *testing.T) {
	t.Run("§10.2 SHA-1 signatures: OpenSSL accepts, Go's Verify rejects", func(t *testing.T) {
		root, leaf := selfSignedWith(t, x509.SHA1WithRSA, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
		r := verdict.VerifyChain([]*x509.Certificate{leaf}, verdict.ChainOptions{Roots: []*x509.Certificate{root}})
		if !r.OK || !r.Trusted {
			t.Errorf("VerifyChain: %+v", r.Errors)
		}
		pool := x509.NewCertPool()
		pool.AddCert(root)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool}); err == nil {
			t.Log("Go accepted the SHA-1 chain (the difference no longer exists in this Go)")
		}
	})
	t.Run("§10.2 anyExtendedKeyUsage alone is not serverAuth for OpenSSL", func(t *testing.T) {
		root, leaf := selfSignedWith(t, x509.SHA256WithRSA, []x509.ExtKeyUsage{x509.ExtKeyUsageAny})
		r := verdict.VerifyChain([]*x509.Certificate{leaf}, verdict.ChainOptions{Roots: []*x509.Certificate{root}})
		if r.OK || len(r.Errors) == 0 || r.Errors[0].Num != verdict.X509InvalidPurpose {
			t.Errorf("want invalid purpose, got %+v", r.Errors)
		}
		pool := x509.NewCertPool()
		pool.AddCert(root)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Logf("Go rejected it too: %v", err)
		}
	})
	t.Run("§10.2 partial chain: Go accepts a trusted intermediate, OpenSSL does not", func(t *testing.T) {
		f := newFixture(t)
		r := verdict.VerifyChain([]*x509.Certificate{f.mx.Cert}, verdict.ChainOptions{Roots: []*x509.Certificate{f.h.Inter.Cert}})
		if r.OK || r.Errors[0].Num != verdict.X509UnableToGetIssuer || r.Errors[0].Depth != 1 {
			t.Errorf("want num=2 at depth 1, got %+v", r.Errors)
		}
		pool := x509.NewCertPool()
		pool.AddCert(f.h.Inter.Cert)
		if _, err := f.mx.Cert.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Errorf("Go should accept the partial chain: %v", err)
		}
	})
	t.Run("§10.2 every error is reported, not just the first", func(t *testing.T) {
		f := newFixture(t)
		r := verdict.VerifyChain([]*x509.Certificate{f.expired.Cert}, verdict.ChainOptions{})
		nums := map[verdict.X509Error]bool{}
		for _, e := range r.Errors {
			nums[e.Num] = true
		}
		if !nums[verdict.X509UnableToGetIssuerLocally] || !nums[verdict.X509Expired] {
			t.Errorf("errors %+v", r.Errors)
		}
	})
	t.Run("§10.2 the trusted root's copy sent by the server does not matter", func(t *testing.T) {
		f := newFixture(t)
		r := verdict.VerifyChain([]*x509.Certificate{f.mx.Cert, f.h.Root.Cert, f.h.Inter.Cert}, verdict.ChainOptions{Roots: []*x509.Certificate{f.h.Root.Cert}})
		if !r.OK || len(r.Built) != 3 || !r.FromStore[2] {
			t.Errorf("%+v", r)
		}
	})
	t.Run("§3.4 self-signed in chain: untrusted issuer is the root's own name", func(t *testing.T) {
		f := newFixture(t)
		other := pki.Must(t, pki.Spec{CN: []string{"mx.example.com"}, DNS: []string{"mx.example.com"}}, f.h.Other)
		r := verdict.VerifyChain([]*x509.Certificate{other.Cert, f.h.Other.Cert}, verdict.ChainOptions{Roots: []*x509.Certificate{f.h.Root.Cert}})
		if r.OK || r.Errors[0].Num != verdict.X509SelfSignedInChain || r.Errors[0].LogLine("h[a]:25") != "certificate verification failed for h[a]:25: untrusted issuer /O=elsewhere/CN=Other Root CA" {
			t.Errorf("%+v %q", r.Errors, r.Errors[0].LogLine("h[a]:25"))
		}
	})
}

func TestEvaluateProtocolSyntax(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		list string
		v    policy.Version
		ok   bool
	}{
		{">=TLSv1.2", policy.V(3, 7, 11), true},
		{">=0x303", policy.V(3, 7, 11), true},
		{"<=303", policy.V(3, 7, 11), true},
		{">=None", policy.V(3, 7, 11), true},
		{"TLSv1.2:TLSv1.3", policy.V(3, 7, 11), true},
		{"!SSLv2, !SSLv3", policy.V(3, 5, 0), true},
		{"!tlsv1.3", policy.V(3, 4, 0), true},
		{"!TLSv1.3", policy.V(3, 3, 0), false},
		{">=TLSv1.2", policy.V(3, 5, 25), false},
		{">=TLSv1.4", policy.V(3, 7, 11), false},
		{"TLSv1.4", policy.V(3, 7, 11), false},
		{">=zz", policy.V(3, 7, 11), false},
		{"", policy.V(3, 7, 11), true},
	} {
		t.Run("§7.3 "+c.list+" on "+c.v.String(), func(t *testing.T) {
			p := pol(policy.Encrypt)
			p.Protocols = c.list
			d := verdict.Evaluate(p, f.hop, obsTLS("mx.example.com", f.chain(f.mx)), verdict.EvalOptions{Version: c.v, Trust: f.trust})
			if got := d.Outcome == verdict.OutcomeDeliver; got != c.ok {
				t.Errorf("delivered=%v, want %v (%q)", got, c.ok, d.Log)
			}
		})
	}
}

func TestEvaluateMisc(t *testing.T) {
	f := newFixture(t)
	fp, _ := fingerprint.Compute(f.mx.Cert, "md5")
	legacyFP := pol(policy.Fingerprint, fp.CertString())
	legacyFP.FingerprintDigest, legacyFP.Protocols = "md5", "!SSLv2, !SSLv3"
	noColons := pol(policy.Fingerprint, strings.ReplaceAll(fp.CertString(), ":", ""))
	noColons.FingerprintDigest, noColons.Protocols = "md5", "!SSLv2, !SSLv3"
	daneOff := pol(policy.May)
	daneOff.ConfiguredLevel = policy.Dane
	daneOff.DANE = &policy.DANEConfig{Problem: "example.com: dane configured with dnssec lookups disabled"}
	unset := policy.Policy{Level: policy.LevelNotSet}
	runEval(t, f, []evalCase{
		{name: "§5.2 <= 3.5: colon-separated md5 pin matches", p: legacyFP, obs: obsTLS("mx.example.com", f.chain(f.mx)), opt: verdict.EvalOptions{Version: policy.V(3, 5, 25)},
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustVerified},
		{name: "§5.2 <= 3.5: pins without colons never match (the CA-valid chain is logged Trusted)", p: noColons, obs: obsTLS("mx.example.com", f.chain(f.mx)), opt: verdict.EvalOptions{Version: policy.V(3, 5, 25)},
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustTrusted},
		{name: "D-5 §6.1 item 3 dane without dnssec runs as may, with a finding", p: daneOff, obs: obsTLS("mx.example.com", f.chain(f.mx)),
			outcome: verdict.OutcomeDeliver, trust: verdict.TrustTrusted, finding: finding.DANEDNSSECDisabled},
		{name: "§3.1 an unset level is none", p: unset, obs: obsTLS("mx.example.com", f.chain(f.mx)), outcome: verdict.OutcomeDeliver},
		{name: "A-2 issuer of another root: issuer-not-trusted", p: pol(policy.Verify, "hostname"),
			obs:     obsTLS("mx.example.com", verdict.Chain{pki.Must(t, pki.Spec{DNS: []string{"mx.example.com"}}, f.h.Other).Cert}),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted, finding: finding.IssuerNotTrusted},
		{name: "C-1 an unrelated CA sent instead of the intermediate", p: pol(policy.Verify, "hostname"),
			obs:     obsTLS("mx.example.com", verdict.Chain{f.mx.Cert, f.h.Other.Cert}),
			outcome: verdict.OutcomeDefer, reason: verdict.ReasonNotVerified, trust: verdict.TrustUntrusted, finding: finding.WrongIntermediate},
	})
	t.Run("Findings() equals Evaluate's", func(t *testing.T) {
		obs := obsTLS("in1-smtp.messagingengine.com", f.chain(f.fastmail))
		p := pol(policy.Secure, "nexthop", "dot-nexthop")
		opt := verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: f.trust}
		a := verdict.Evaluate(p, f.fmHop, obs, opt).Findings
		b := verdict.Findings(p, f.fmHop, obs, opt)
		if len(a) == 0 || len(a) != len(b) || a[0].Summary != b[0].Summary {
			t.Errorf("%+v\n%+v", a, b)
		}
	})
	t.Run("relay is none when Postfix does not connect", func(t *testing.T) {
		p := pol(policy.Secure)
		p.Invalid = true
		d := verdict.Evaluate(p, f.hop, obsTLS("mx.example.com", nil), verdict.EvalOptions{})
		if d.Relay != "none" || d.Connected {
			t.Errorf("%+v", d)
		}
		d = verdict.Evaluate(pol(policy.May), f.hop, obsTLS("mx.example.com", nil), verdict.EvalOptions{})
		if d.Relay != "mx.example.com[192.0.2.10]:25" {
			t.Errorf("relay %q", d.Relay)
		}
	})
}

func TestFindingIPNexthopAndJSON(t *testing.T) {
	f := newFixture(t)
	hop := policy.NextHop{Nexthop: "[192.0.2.10]", Key: "[192.0.2.10]", Domain: "192.0.2.10", Port: 25, Client: policy.SMTP}
	obs := obsTLS("192.0.2.10", f.chain(f.mx))
	obs.HaveMX = false
	d := verdict.Evaluate(pol(policy.Secure, "nexthop", "dot-nexthop"), hop, obs, verdict.EvalOptions{Version: policy.V(3, 7, 11), Trust: f.trust})
	if d.Outcome != verdict.OutcomeDefer || len(d.Findings) == 0 || d.Findings[0].Code != finding.IPNexthop {
		t.Fatalf("B-3 %+v", d.Findings)
	}
	if d.Findings[0].Fixes[0].String() != "[192.0.2.10] secure match=mx.example.com" {
		t.Errorf("B-3 fix %q", d.Findings[0].Fixes)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"outcome", "dsn", "reason", "trust", "relay", "log", "evidence", "findings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if m["outcome"] != "defer" || m["trust"] != "Untrusted" || m["level"] != "secure" {
		t.Errorf("JSON %s", b)
	}
}

func TestConclude(t *testing.T) {
	nv := verdict.Decision{Outcome: verdict.OutcomeDefer, DSN: "4.7.5", Reason: verdict.ReasonNotVerified, TLS: true, Trust: verdict.TrustUntrusted, Relay: "mx1[192.0.2.1]:25"}
	noTLS := verdict.Decision{Outcome: verdict.OutcomeDefer, DSN: "4.7.4", Reason: "TLS is required, but was not offered by host mx2[192.0.2.2]", Relay: "mx2[192.0.2.2]:25"}
	ok := verdict.Decision{Outcome: verdict.OutcomeDeliver, DSN: "2.0.0", TLS: true, Trust: verdict.TrustVerified, Relay: "mx2[192.0.2.2]:25"}
	bounce := verdict.Decision{Outcome: verdict.OutcomeBounce, DSN: "5.7.0", Reason: "TLS is required, but host mx2[192.0.2.2] refused to start TLS: 554 5.7.0 no", Relay: "mx2[192.0.2.2]:25"}
	retry := verdict.Decision{Outcome: verdict.OutcomePlaintextRetry, DSN: "4.7.5", Reason: verdict.ReasonHandshake, Relay: "mx1[192.0.2.1]:25"}
	for _, c := range []struct {
		name   string
		in     []verdict.Decision
		out    verdict.Outcome
		dsn    policy.DSN
		reason string
		trust  verdict.TrustWord
		log    int
	}{
		{"§9.74 the last failure is the deferral reason", []verdict.Decision{nv, noTLS}, verdict.OutcomeDefer, "4.7.4", noTLS.Reason, verdict.TrustUntrusted, 1},
		{"§3.2 a later server delivers", []verdict.Decision{nv, ok}, verdict.OutcomeDeliver, "2.0.0", "", verdict.TrustVerified, 1},
		{"§3.2 a 5xx STARTTLS reply bounces at once", []verdict.Decision{nv, bounce, ok}, verdict.OutcomeBounce, "5.7.0", bounce.Reason, verdict.TrustUntrusted, 1},
		{"§3.3 plaintext retry delivers on the same server", []verdict.Decision{retry}, verdict.OutcomeDeliver, "2.0.0", "", "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := verdict.Conclude(c.in)
			if got.Outcome != c.out || got.DSN != c.dsn || got.Reason != c.reason || got.Trust != c.trust || len(got.Log) != c.log {
				t.Errorf("%+v", got)
			}
		})
	}
}

func TestFindingWrapperMode(t *testing.T) {
	f := newFixture(t)
	hop465 := policy.NextHop{Nexthop: "[smtp.example.com]:465", Key: "[smtp.example.com]:465", Domain: "smtp.example.com", Port: 465, Client: policy.SMTP}
	greet := verdict.Observation{Host: "smtp.example.com", Addr: "192.0.2.5", Port: 465,
		ConnectError: "conversation with smtp.example.com[192.0.2.5] timed out while receiving the initial server greeting"}
	wrap := pol(policy.Encrypt)
	wrap.WrapperMode = true
	hs := obsTLS("mx.example.com", nil)
	hs.HandshakeError = "tls: first record does not look like a TLS handshake"
	runEval(t, f, []evalCase{
		{name: "G-1 port 465 without wrappermode: greeting timeout", p: pol(policy.Encrypt), hop: &hop465, obs: greet,
			outcome: verdict.OutcomeDefer, dsn: "4.4.2", reason: greet.ConnectError, finding: finding.Port465NoWrapper},
		{name: "G-2 wrappermode to a STARTTLS port: handshake failure", p: wrap, obs: hs,
			outcome: verdict.OutcomeDefer, dsn: "4.7.5", reason: verdict.ReasonHandshake, finding: finding.WrapperOnSTARTTLSPort},
	})
}

// mustReply builds a server reply as the wire reader stores it.
func mustReply(code int, enh, text string) *reply.Reply {
	line := strconv.Itoa(code)
	if enh != "" {
		line += " " + enh
	}
	r, _, err := reply.Parse(line + " " + text)
	if err != nil {
		panic(err)
	}
	return r
}
