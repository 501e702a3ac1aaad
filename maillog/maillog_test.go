package maillog

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/stretchr/testify/require"
)

func readAll(t testing.TB, in string, opt Options) ([]Delivery, *Reader) {
	t.Helper()
	r := NewReader(strings.NewReader(in), opt)
	var out []Delivery
	for {
		d, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out, r
		}
		require.NoError(t, err)
		out = append(out, d)
	}
}

type expect struct {
	Case, Outcome, DSN, Reason, Relay, Trust, QueueID string
}

// TestOracleLogs reads the maillog excerpts real Postfix 3.7.11 wrote (testdata/oracle,
// produced with ../shared/oracle/run-case --log at smtp_tls_loglevel 1 and 2) and checks
// the rebuilt delivery against what the oracle recorded.
func TestOracleLogs(t *testing.T) {
	f, err := os.Open("testdata/oracle/expect.jsonl")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var e expect
		var raw map[string]string
		require.NoError(t, json.Unmarshal(sc.Bytes(), &raw))
		e = expect{raw["case"], raw["outcome"], raw["dsn"], raw["reason"], raw["relay"], raw["trust"], raw["queue_id"]}
		n++
		t.Run("§3.4 oracle "+e.Case, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata/oracle", e.Case+".log"))
			require.NoError(t, err)
			ds, r := readAll(t, string(b), Options{})
			require.Len(t, ds, 1)
			d := ds[0]
			require.Equal(t, e.QueueID, d.QueueID)
			require.Equal(t, e.Outcome, d.Status)
			require.Equal(t, e.DSN, d.DSN)
			require.Equal(t, e.Reason, d.Reason)
			require.Equal(t, e.Relay, d.Relay)
			require.Equal(t, "3.7.11", r.Version())
			require.Zero(t, r.Stats().Unrecognised, "%v", r.Diagnostics())
			// The "# case ..." header is no log line: reported, in words that say what it is.
			require.Equal(t, []Diagnostic{{Line: 1, Text: `not a Postfix log line: a "#" comment`, Count: 1, LastLine: 1}}, r.Diagnostics())
			if e.Trust != "" {
				var final *Attempt
				for i := range d.Attempts {
					if d.Attempts[i].Final {
						final = &d.Attempts[i]
					}
				}
				require.NotNil(t, final, "final attempt")
				require.NotNil(t, final.TLS)
				require.Equal(t, e.Trust, string(final.TLS.Trust))
			}
			if strings.HasSuffix(e.Case, "-l2") && e.Trust != "" && e.Trust != "Anonymous" {
				last := d.Attempts[len(d.Attempts)-1]
				require.NotEmpty(t, last.SubjectCN, "loglevel 2 logs subject_CN")
				require.NotEmpty(t, last.CertFingerprint)
			}
			q, p := r.Open()
			require.LessOrEqual(t, q+p, 2)
		})
	}
	require.GreaterOrEqual(t, n, 20)
}

func TestAttemptDetails(t *testing.T) {
	b, err := os.ReadFile("testdata/oracle/mx-fallback-second-mx-l1.log")
	require.NoError(t, err)
	ds, _ := readAll(t, string(b), Options{})
	require.Len(t, ds, 1)
	a := ds[0].Attempts
	require.Len(t, a, 2, "§3.2 failed first MX then delivered to the second")
	require.Equal(t, "mx1.example.test[127.0.1.21]:25", a[0].Server)
	require.Equal(t, "Server certificate not verified", a[0].Reason, "§3.2 <qid>: reason line")
	require.Equal(t, "untrusted issuer /O=Postfix TLS Oracle/CN=Oracle Other (untrusted) Root CA", a[0].Verify[0].Text)
	require.True(t, a[1].Final)
	require.Equal(t, verdict.TrustVerified, a[1].TLS.Trust)

	b, err = os.ReadFile("testdata/oracle/dane-311-mismatch-l1.log")
	require.NoError(t, err)
	ds, _ = readAll(t, string(b), Options{})
	fa := ds[0].Attempts[len(ds[0].Attempts)-1]
	require.Equal(t, verdict.X509DANENoMatch, fa.Verify[0].Num)

	b, err = os.ReadFile("testdata/oracle/dane-311-mismatch-l2.log")
	require.NoError(t, err)
	ds, _ = readAll(t, string(b), Options{})
	require.Contains(t, strings.Join(ds[0].Warnings, "\n"), "DNSSEC-signed TLSA record: _25._tcp.mx.example.test: 3 1 1 ", "§6 TLSA import lines go with the delivery")

	b, err = os.ReadFile("testdata/oracle/fingerprint-pubkey-l1.log")
	require.NoError(t, err)
	ds, _ = readAll(t, string(b), Options{})
	fa = ds[0].Attempts[len(ds[0].Attempts)-1]
	require.Contains(t, fa.DANE, "warning: unusable TLSA RR: 3 0 255 001122", "§5 unusable TLSA RR warnings attach to the session")
}

// Hand-written excerpts in the wordings of other releases.
func TestOlderAndNewerWordings(t *testing.T) {
	cases := []struct {
		name  string
		log   string
		check func(t *testing.T, d Delivery)
	}{
		{"failure-catalogue §0.3 Postfix <= 3.5 'Server certificate not trusted' with level-2 subjectAltName and CommonName lines", `Nov  2 03:00:00 mx1 postfix/smtp[100]: setting up TLS connection to in1-smtp.messagingengine.com[66.111.4.72]:25
Nov  2 03:00:00 mx1 postfix/smtp[100]: in1-smtp.messagingengine.com[66.111.4.72]:25: subjectAltName: *.messagingengine.com
Nov  2 03:00:00 mx1 postfix/smtp[100]: in1-smtp.messagingengine.com[66.111.4.72]:25: subjectAltName: messagingengine.com
Nov  2 03:00:00 mx1 postfix/smtp[100]: in1-smtp.messagingengine.com[66.111.4.72]:25 CommonName *.messagingengine.com
Nov  2 03:00:00 mx1 postfix/smtp[100]: certificate verification failed for in1-smtp.messagingengine.com[66.111.4.72]:25: untrusted issuer /C=US/O=DigiCert Inc/CN=DigiCert Global Root G2
Nov  2 03:00:00 mx1 postfix/smtp[100]: in1-smtp.messagingengine.com[66.111.4.72]:25: subject_CN=*.messagingengine.com, issuer_CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, fingerprint=AA:BB, pkey_fingerprint=CC:DD
Nov  2 03:00:00 mx1 postfix/smtp[100]: Untrusted TLS connection established to in1-smtp.messagingengine.com[66.111.4.72]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)
Nov  2 03:00:00 mx1 postfix/smtp[100]: 4A1B2C3D4E: to=<bob@fastmail.fm>, relay=in1-smtp.messagingengine.com[66.111.4.72]:25, delay=1.2, delays=0.1/0/1/0, dsn=4.7.5, status=deferred (Server certificate not trusted)
`, func(t *testing.T, d Delivery) {
			require.Equal(t, "Server certificate not trusted", d.Reason)
			a := d.Attempts[0]
			require.Equal(t, []PeerName{{Kind: "subjectAltName", Name: "*.messagingengine.com"}, {Kind: "subjectAltName", Name: "messagingengine.com"},
				{Kind: "CommonName", Name: "*.messagingengine.com"}, {Kind: "subject_CN", Name: "*.messagingengine.com"}}, a.Names)
			require.Equal(t, 256, a.TLS.Bits)
			require.Equal(t, time.November, d.Time.Month())
			require.Equal(t, 2, d.Time.Day())
		}},
		{"§3.4 Postfix 3.9+ 'issuer=' and 'cert fingerprint=' wording, ISO timestamps, syslog_name postfix-out", `2026-11-22T03:00:00.123456+00:00 gw postfix-out/smtp[7]: mx.example.com[192.0.2.1]:25: subject_CN=mx.example.com, issuer=R11, cert fingerprint=01:02, pkey fingerprint=03:04
2026-11-22T03:00:00.200000+00:00 gw postfix-out/smtp[7]: Trusted TLS connection established to mx.example.com[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256
2026-11-22T03:00:01+00:00 gw postfix-out/smtp[7]: ABCDEF12345: to=<a@example.com>, orig_to=<b@example.org>, relay=mx.example.com[192.0.2.1]:25, delay=0.5, delays=0/0/0.4/0.1, tls=may, dsn=2.0.0, status=sent (250 ok)
`, func(t *testing.T, d Delivery) {
			a := d.Attempts[0]
			require.Equal(t, "R11", a.IssuerCN)
			require.Equal(t, "01:02", a.CertFingerprint)
			require.Equal(t, "03:04", a.PKeyFingerprint)
			require.Equal(t, "may", d.TLSFeature)
			require.Equal(t, "b@example.org", d.OrigRecipient)
			require.Equal(t, "postfix-out/smtp", d.Program)
			require.Equal(t, 2026, d.Time.Year())
		}},
		{"failure-catalogue §0.2 re-using session back-reference; nested syslog_name postfix/relay/smtp", `Nov 22 03:00:00 h postfix/relay/smtp[9]: mx.example.com[192.0.2.1]:25: re-using session with untrusted peer credential, look for details earlier in the log
Nov 22 03:00:00 h postfix/relay/smtp[9]: Untrusted TLS connection reused to mx.example.com[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
Nov 22 03:00:00 h postfix/relay/smtp[9]: ABCDE1: to=<a@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=0.5, delays=0/0/0.4/0.1, dsn=4.7.5, status=deferred (Server certificate not verified)
`, func(t *testing.T, d Delivery) {
			a := d.Attempts[0]
			require.True(t, a.ReusedUntrusted)
			require.True(t, a.TLS.Reused)
			require.Equal(t, "smtp", "smtp")
		}},
		{"§3.2 handshake failure with TLS library problems; RFC 5424 frame", `<22>1 2026-11-22T03:00:00Z h postfix/smtp 11 - - SSL_connect error to mx.example.com[192.0.2.1]:25: -1
<22>1 2026-11-22T03:00:00Z h postfix/smtp 11 - - warning: TLS library problem: error:0A000410:SSL routines::sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1584:SSL alert number 40:
<22>1 2026-11-22T03:00:00Z h postfix/smtp 11 - - ABCDE2: to=<a@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=0.5, delays=0/0/0.4/0.1, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)
`, func(t *testing.T, d Delivery) {
			a := d.Attempts[0]
			require.Equal(t, "-1", a.HandshakeError)
			require.Len(t, a.Library, 1)
		}},
		{"§1.4 policy warnings are attached to the delivery, relay=none", `Nov 22 03:00:00 h postfix/smtp[12]: warning: smtp_tls_policy_maps, next-hop destination "example.com": invalid security level "secur"
Nov 22 03:00:00 h postfix/smtp[12]: warning: TLS policy lookup for example.com/mx.example.com: client TLS configuration problem
Nov 22 03:00:00 h postfix/smtp[12]: ABCDE3: to=<a@example.com>, relay=none, delay=0.5, delays=0/0/0.4/0.1, dsn=4.7.5, status=deferred (client TLS configuration problem)
`, func(t *testing.T, d Delivery) {
			require.Len(t, d.Warnings, 2)
			require.Empty(t, d.Attempts)
		}},
		{"§3.4 interleaved processes: TLS lines correlate by pid and host[addr]:port", `Nov 22 03:00:00 h postfix/smtp[1]: certificate verification failed for a.example[192.0.2.1]:25: self-signed certificate
Nov 22 03:00:00 h postfix/smtp[2]: Verified TLS connection established to b.example[192.0.2.2]:25: TLSv1.3 with cipher X (256/256 bits)
Nov 22 03:00:00 h postfix/smtp[1]: Untrusted TLS connection established to a.example[192.0.2.1]:25: TLSv1.3 with cipher X (256/256 bits)
Nov 22 03:00:00 h postfix/smtp[2]: BBBBB1: to=<x@b.example>, relay=b.example[192.0.2.2]:25, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)
Nov 22 03:00:00 h postfix/smtp[1]: AAAAA1: to=<x@a.example>, relay=a.example[192.0.2.1]:25, delay=1, delays=0/0/0/0, dsn=4.7.5, status=deferred (Server certificate not verified)
Nov 22 03:00:00 h postfix/smtp[1]: AAAAA1: to=<y@a.example>, relay=a.example[192.0.2.1]:25, delay=1, delays=0/0/0/0, dsn=4.7.5, status=deferred (Server certificate not verified)
Nov 22 03:00:01 h postfix/qmgr[3]: AAAAA1: removed
`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, r := readAll(t, c.log, Options{})
			require.Zero(t, r.Stats().Unrecognised, "%v", r.Diagnostics())
			require.Zero(t, r.Stats().NotLog, "%v", r.Diagnostics())
			require.NotEmpty(t, ds)
			if c.check != nil {
				c.check(t, ds[0])
				return
			}
			require.Len(t, ds, 3)
			require.Equal(t, verdict.TrustVerified, ds[0].Attempts[0].TLS.Trust)
			require.Equal(t, verdict.TrustUntrusted, ds[1].Attempts[0].TLS.Trust)
			require.Equal(t, "self-signed certificate", ds[1].Attempts[0].Verify[0].Text)
			require.Equal(t, ds[1].Attempts, ds[2].Attempts, "second recipient of the same session shares the attempts")
			q, _ := r.Open()
			require.Equal(t, 1, q, "removed evicts the queue ID")
		})
	}
}

func TestGarbageNeverPanics(t *testing.T) {
	inputs := []string{
		"", "\n\n", "garbage", "Nov 22", "Nov 22 03:00:00", "Nov 22 03:00:00 h", "Nov 22 03:00:00 h postfix/smtp[",
		"Nov 99 03:00:00 h postfix/smtp[1]: x", "<999999999>1 - - - - -", "2026-13-45T99:99:99Z h p[1]: x",
		"postfix/smtp[1]: ABCDE: to=<", "postfix/smtp[1]: ABCDE: to=<a>, relay=", "postfix/smtp[1]: ABCDE: to=<a>, status=",
		"postfix/smtp[1]: Verified TLS connection established to x[", "postfix/smtp[1]: x[y]:9999999999999999999: depth=0 verify=1 subject=",
		"postfix/smtp[1]: certificate verification failed for ", "postfix/smtp[1]: x[1]: subject_CN=",
		"postfix/smtp[1]: ABCDE: to=<a@b>, relay=x[1]:25, dsn=4.0.0, status=deferred (x)\npostfix/qmgr[2]: ABCDE: removed\npostfix/smtp[1]: ABCDE: to=<a@b>, relay=x[1]:25, dsn=4.0.0, status=deferred",
	}
	for _, in := range inputs {
		readAll(t, in, Options{})
		ParseLine([]byte(in), 2026)
	}
	// Truncated oracle log at every length.
	b, err := os.ReadFile("testdata/oracle/fastmail-secure-l2.log")
	require.NoError(t, err)
	for i := 0; i < len(b); i += 7 {
		readAll(t, string(b[:i]), Options{})
	}
}

func TestBounds(t *testing.T) {
	var sb strings.Builder
	for i := 0; i < 3000; i++ {
		sb.WriteString("Nov 22 03:00:00 h postfix/smtp[")
		sb.WriteString(strings.Repeat("1", 1+i%5))
		sb.WriteString("]: Verified TLS connection established to a.example[192.0.2.1]:25: TLSv1.3 with cipher X (256/256 bits)\n")
		sb.WriteString("Nov 22 03:00:00 h postfix/smtp[")
		sb.WriteString(itoa(i + 10))
		sb.WriteString("]: AAAA")
		sb.WriteString(itoa(100000 + i))
		sb.WriteString(": Server certificate not verified\n")
	}
	sb.WriteString("x" + strings.Repeat("y", 200) + "\n")
	_, r := readAll(t, sb.String(), Options{MaxOpenQueueIDs: 100, MaxProcesses: 50, MaxLineLength: 100})
	q, p := r.Open()
	require.LessOrEqual(t, q, 100)
	require.LessOrEqual(t, p, 50)
	require.Positive(t, r.Stats().EvictedQueueIDs)
	// Repeats of a kind are one diagnostic with a count, not one entry each.
	// (the TLS lines are longer than 100 bytes too, so the processes have nothing pending:
	// forgetting them is counted as retired, with no diagnostic).
	ds := r.Diagnostics()
	require.Len(t, ds, 2, "%v", ds)
	require.Equal(t, "line longer than 100 bytes skipped", ds[0].Text)
	require.Equal(t, int64(3001), ds[0].Count)
	require.Contains(t, ds[1].Text, "queue IDs kept: forgot the")
	require.Greater(t, ds[1].Count, int64(10))
	require.Greater(t, ds[1].LastLine, ds[1].Line)
	require.Equal(t, ds[0].Count+ds[1].Count, r.Stats().Diagnostics)
	require.Positive(t, r.Stats().RetiredProcesses)
	require.Zero(t, r.Stats().EvictedProcesses)
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

// The seed question: Postfix defers fastmail mail at "secure"; the level-2 lines give the
// certificate names; with the policy table the finding says why and proposes the row.
func TestExplainSeed(t *testing.T) {
	b, err := os.ReadFile("testdata/oracle/fastmail-secure-l2.log")
	require.NoError(t, err)
	s, err := policy.NewSettings(policy.MustParseVersion("3.7.11"), map[string]string{
		"smtp_tls_policy_maps": "inline:{fastmail.test=secure}",
		"smtp_tls_CAfile":      "/etc/ssl/certs/ca-certificates.crt",
	})
	require.NoError(t, err)
	ex, err := Explain(context.Background(), NewReader(strings.NewReader(string(b)), Options{}), ExplainOptions{Settings: s})
	require.NoError(t, err)
	require.Len(t, ex, 1)
	e := ex[0]
	require.Equal(t, "fastmail.test", e.Destination)
	require.Equal(t, policy.Secure, e.Policy.Level)
	var f *finding.Finding
	for i := range e.Findings {
		if e.Findings[i].Code == finding.SecureNexthopMismatch {
			f = &e.Findings[i]
		}
	}
	require.NotNil(t, f, "%+v", e.Findings)
	require.Equal(t, "fastmail.test secure match=.messagingengine.test", f.Fixes[0].String())

	// The same at loglevel 1: the names are missing, and the explanation says so.
	b, err = os.ReadFile("testdata/oracle/fastmail-secure-l1.log")
	require.NoError(t, err)
	ex, err = Explain(context.Background(), NewReader(strings.NewReader(string(b)), Options{}), ExplainOptions{Settings: s})
	require.NoError(t, err)
	require.Contains(t, ex[0].Missing, MissingNames)

	// Without a configuration.
	ex, err = Explain(context.Background(), NewReader(strings.NewReader(string(b)), Options{}), ExplainOptions{})
	require.NoError(t, err)
	require.Contains(t, ex[0].Missing, MissingConfig)
}

func TestExplainLogOnlyFindings(t *testing.T) {
	cases := map[string]finding.Code{
		"verify-wrong-ca-l1":     finding.IssuerNotTrusted,
		"verify-expired-l1":      finding.Expired,
		"dane-311-mismatch-l1":   finding.TLSAStale,
		"encrypt-no-starttls-l1": finding.NoSTARTTLS,
	}
	for c, code := range cases {
		t.Run("failure-catalogue §0.2 "+c, func(t *testing.T) {
			b, err := os.ReadFile("testdata/oracle/" + c + ".log")
			require.NoError(t, err)
			ex, err := Explain(context.Background(), NewReader(strings.NewReader(string(b)), Options{}), ExplainOptions{})
			require.NoError(t, err)
			require.Len(t, ex, 1)
			require.Equal(t, code, ex[0].Findings[0].Code)
		})
	}
}

func explainString(t *testing.T, log string, s *policy.Settings) Explanation {
	t.Helper()
	ex, err := Explain(context.Background(), NewReader(strings.NewReader(log), Options{}), ExplainOptions{Settings: s})
	require.NoError(t, err)
	require.Len(t, ex, 1)
	return ex[0]
}

// §5: a stale pin; the logged public-key digest is offered with a warning.
func TestExplainFingerprintStale(t *testing.T) {
	log := `Nov 22 03:00:00 h postfix/smtp[5]: certificate verification failed for mx.example.com[192.0.2.1]:25: not trusted by local or TLSA policy
Nov 22 03:00:00 h postfix/smtp[5]: mx.example.com[192.0.2.1]:25: subject_CN=mx.example.com, issuer_CN=R11, fingerprint=AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99, pkey_fingerprint=11:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
Nov 22 03:00:00 h postfix/smtp[5]: Untrusted TLS connection established to mx.example.com[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
Nov 22 03:00:00 h postfix/smtp[5]: ABCDE9: to=<a@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=4.7.5, status=deferred (Server certificate not verified)
`
	s, err := policy.NewSettings(policy.MustParseVersion("3.7.11"), map[string]string{
		"smtp_tls_policy_maps": "inline:{ {example.com = fingerprint match=00:11} }"})
	require.NoError(t, err)
	e := explainString(t, log, s)
	require.Len(t, e.Findings, 1, "%+v", e.Findings)
	require.Equal(t, finding.FingerprintStale, e.Findings[0].Code)
	// A log holds no certificate, so the pin cannot be proven: it is advice, not a fix.
	require.Empty(t, e.Findings[0].Fixes)
	require.Contains(t, strings.Join(e.Findings[0].Details, "\n"), "match=11:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99")
	require.Contains(t, strings.Join(e.Findings[0].Details, "\n"), "out of band")
}

// Out-of-order input (a status line before the TLS lines of its session, files
// concatenated newest first) never panics; orphan lines wait for that process's next
// queue ID and are bounded.
func TestOutOfOrder(t *testing.T) {
	log := `Nov 22 03:00:05 h postfix/smtp[1]: AAAAA1: to=<x@a.example>, relay=a.example[192.0.2.1]:25, delay=1, delays=0/0/0/0, dsn=4.7.5, status=deferred (Server certificate not verified)
Nov 22 03:00:04 h postfix/smtp[1]: certificate verification failed for a.example[192.0.2.1]:25: self-signed certificate
Nov 22 03:00:04 h postfix/smtp[1]: Untrusted TLS connection established to a.example[192.0.2.1]:25: TLSv1.3 with cipher X (256/256 bits)
Nov 22 03:00:01 h postfix/qmgr[3]: AAAAA1: removed
Nov 22 03:00:00 h postfix/qmgr[3]: AAAAA1: removed
`
	ds, r := readAll(t, log, Options{})
	require.Len(t, ds, 1)
	require.Len(t, ds[0].Attempts, 1, "the status line alone gives the relay")
	require.Nil(t, ds[0].Attempts[0].TLS)
	q, p := r.Open()
	require.Equal(t, 0, q)
	require.Equal(t, 1, p, "the orphan session waits for process 1's next queue ID")
}

// failure-catalogue A-2 with the configuration: the issuer finding names the configured CAs and proposes
// the CAfile and a trust-anchor row; a later success is mentioned in the verdict.
func TestExplainIssuerWithSettings(t *testing.T) {
	b, err := os.ReadFile("testdata/oracle/verify-wrong-ca-l1.log")
	require.NoError(t, err)
	ok := "postfix/smtp[999]: FFFFF1: to=<user@example.test>, relay=mx.example.test[127.0.1.20]:25, delay=0.1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)\n"
	s, err := policy.NewSettings(policy.MustParseVersion("3.7.11"), map[string]string{
		"smtp_tls_policy_maps": "inline:{example.test=verify}", "smtp_tls_CAfile": "/etc/postfix/own-chain.pem"})
	require.NoError(t, err)
	e := explainString(t, string(b)+ok, s)
	require.Equal(t, finding.IssuerNotTrusted, e.Findings[0].Code)
	require.Contains(t, e.Findings[0].Details[0], `smtp_tls_CAfile = "/etc/postfix/own-chain.pem"`)
	// A log holds no chain: the usual fixes cannot be proven and are advice only.
	require.Empty(t, e.Findings[0].Fixes)
	require.Contains(t, strings.Join(e.Findings[0].Details, "\n"), "not proven from the log: smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt")
	require.Contains(t, strings.Join(e.Findings[0].Details, "\n"), "tafile=/etc/postfix/tls/mx.example.test-ca.pem")
	require.Contains(t, e.Verdict, "a later delivery to it succeeded")
	require.Equal(t, map[string]int{"deferred": 1, "sent": 1}, e.Statuses)
}

// Real Postfix 3.7.11 output for §1.4 (invalid policy: warnings, relay=none) and for
// smtp_tls_loglevel 0 (only the verification failure line).
func TestExplainInvalidPolicyAndLoglevel0(t *testing.T) {
	b, err := os.ReadFile("testdata/oracle/policy-bad-attr-l1.log")
	require.NoError(t, err)
	e := explainString(t, string(b), nil)
	require.Equal(t, finding.InvalidPolicy, e.Findings[0].Code)
	require.Equal(t, []string{`warning: smtp_tls_policy_maps, next-hop destination "fastmail.test": malformed attribute/value pair "servername": missing '=' after attribute name`,
		"warning: TLS policy lookup for fastmail.test/in1-smtp.messagingengine.test: client TLS configuration problem"}, e.Findings[0].Details)

	s, err := policy.NewSettings(policy.MustParseVersion("3.7.11"), map[string]string{
		"smtp_tls_policy_maps": "inline:{ {fastmail.test = secure match=.messagingengine.test servername} }"})
	require.NoError(t, err)
	e = explainString(t, string(b), s)
	require.Equal(t, finding.InvalidPolicy, e.Findings[0].Code)
	require.Contains(t, e.Findings[0].Summary+strings.Join(e.Findings[0].Details, " "), "servername", "package policy names the bad attribute")

	b, err = os.ReadFile("testdata/oracle/fastmail-secure-l0.log")
	require.NoError(t, err)
	s, err = policy.NewSettings(policy.MustParseVersion("3.7.11"), map[string]string{"smtp_tls_policy_maps": "inline:{fastmail.test=secure}"})
	require.NoError(t, err)
	e = explainString(t, string(b), s)
	require.Contains(t, e.Missing, MissingNames)
	require.Contains(t, e.Missing, MissingTLS)
}

// §4.3: Postfix <= 3.5 logs "Trusted" for a valid chain with a name mismatch and the
// subjectAltNames at loglevel 2; the name check is re-run with the release's matcher. On
// the seed's own release (2.11) as on 3.5, explain and check share the diagnosis engine: the
// finding and the first fix are check's (the admin's other attributes kept), each fix proven
// against the logged names.
func TestExplainLegacyNameMismatch(t *testing.T) {
	log := `Nov  2 03:00:00 mx1 postfix/smtp[100]: in1-smtp.messagingengine.com[66.111.4.72]:25: subjectAltName: *.messagingengine.com
Nov  2 03:00:00 mx1 postfix/smtp[100]: in1-smtp.messagingengine.com[66.111.4.72]:25: subjectAltName: messagingengine.com
Nov  2 03:00:00 mx1 postfix/smtp[100]: in1-smtp.messagingengine.com[66.111.4.72]:25 CommonName *.messagingengine.com
Nov  2 03:00:00 mx1 postfix/smtp[100]: Trusted TLS connection established to in1-smtp.messagingengine.com[66.111.4.72]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)
Nov  2 03:00:00 mx1 postfix/smtp[100]: 4A1B2C3D4E: to=<bob@fastmail.fm>, relay=in1-smtp.messagingengine.com[66.111.4.72]:25, delay=1.2, delays=0.1/0/1/0, dsn=4.7.5, status=deferred (Server certificate not verified)
`
	for _, c := range []struct{ version, table, fix string }{
		{"3.5.25", "inline:{fastmail.fm=secure}", "fastmail.fm secure match=.messagingengine.com"},
		{"2.11.0", "inline:{{fastmail.fm = secure ciphers=high}}", "fastmail.fm secure match=.messagingengine.com ciphers=high"},
	} {
		// relay_domains is set because package policy's built-in 3.5 default uses the 3.6+
		// "<level" operator that its own 3.5 expansion rejects (reported).
		s, err := policy.NewSettings(policy.MustParseVersion(c.version), map[string]string{"relay_domains": "", "smtputf8_enable": "no",
			"smtp_tls_policy_maps": c.table, "smtp_tls_CAfile": "/etc/ssl/certs/ca-certificates.crt"})
		require.NoError(t, err)
		e := explainString(t, log, s)
		require.NotEmpty(t, e.Findings, "%s: %+v %+v %+v", c.version, e.Notes, e.Missing, e.Policy)
		require.Equal(t, finding.SecureNexthopMismatch, e.Findings[0].Code, c.version)
		require.Equal(t, c.fix, e.Findings[0].Fixes[0].String(), c.version)
		for _, fx := range e.Findings[0].Fixes {
			require.NotEmpty(t, fx.Proven, "%s: %s", c.version, fx)
		}
		require.Contains(t, e.Notes[0], "subjectAltNames", c.version)
	}
}

// §5.2: a pin made with SHA-1 while Postfix 3.7 compares SHA-256 (real Postfix 3.7.11 logs,
// oracle case fingerprint-sha1-pin): the explanation says the pin can never match, whatever
// the log level; at loglevel 1 it also says which setting logs the server's fingerprints
// (not the certificate names: those are no help at the fingerprint level).
func TestExplainFingerprintWrongDigest(t *testing.T) {
	s, err := policy.NewSettings(policy.MustParseVersion("3.7.11"), map[string]string{
		"compatibility_level": "3.6", "smtp_tls_policy_maps": "inline:{{example.test = fingerprint match=50:89:E1:F3:4A:0D:6A:3D:FA:5C:54:AA:1C:30:AF:76:11:9E:A3:14}}"})
	require.NoError(t, err)
	for _, c := range []struct {
		log     string
		missing bool
	}{{"fingerprint-sha1-pin-l1", true}, {"fingerprint-sha1-pin-l2", false}} {
		b, err := os.ReadFile("testdata/oracle/" + c.log + ".log")
		require.NoError(t, err)
		e := explainString(t, string(b), s)
		require.NotEmpty(t, e.Findings, c.log)
		f := e.Findings[len(e.Findings)-1]
		require.Equal(t, finding.FingerprintStale, f.Code, c.log)
		require.Contains(t, strings.Join(f.Details, "\n"), "a 20-byte value (the length of a SHA-1 digest), but Postfix compares SHA-256 digests (32 bytes): it can never match", c.log)
		require.NotContains(t, e.Missing, MissingNames, c.log)
		require.Equal(t, c.missing, slices.Contains(e.Missing, MissingFingerprints), "%s: %q", c.log, e.Missing)
	}
}

// qmgr(8) marks a destination dead after failed deliveries (qmgr_queue_throttle) and
// defers its other recipients without a connection, with "delivery temporarily suspended: "
// before the failure's reason (qmgr_deliver.c) and relay=none, through the retry transport
// (postfix/error). testdata/oracle/verify-wrong-ca-suspended-l1.log is real Postfix 3.7.11
// output: ten messages queued at once for a server with an untrusted certificate, then one
// more; four deliveries connect and fail, seven are suspended. The explanation of the
// newest (suspended) one takes its findings from the newest delivery that connected.
func TestExplainSuspended(t *testing.T) {
	b, err := os.ReadFile("testdata/oracle/verify-wrong-ca-suspended-l1.log")
	require.NoError(t, err)
	full := string(b)
	// The log as it would be after a rotation between the attempts and the suspensions:
	// everything after the last smtp(8) status line.
	rotated := full[strings.LastIndex(full, "postfix/smtp["):]
	rotated = rotated[strings.IndexByte(rotated, '\n')+1:]
	// Edited (not Postfix output): the suspension names a failure other than the one of
	// the newest delivery that connected.
	other := strings.ReplaceAll(full, "(delivery temporarily suspended: Server certificate not verified)",
		"(delivery temporarily suspended: connect to mx.example.test[127.0.1.20]:25: Connection refused)")
	for _, c := range []struct {
		name      string
		log       string
		attempted string // queue ID of Explanation.Attempted, "" for none
		story     string
		missing   bool
		note      bool
	}{
		{"qmgr_deliver.c SUSPENDED: findings from the newest delivery that connected", full, "D6AFD984906",
			"not attempted: the queue manager had suspended deliveries to this destination after a delivery to it failed, and deferred this one without connecting; the newest earlier failed delivery with connections, D6AFD984906 to user4@example.test at Dec 03 19:32:31, failed with the reason the suspension names; its attempts:", false, false},
		{"qmgr_deliver.c SUSPENDED: the log began after the failed delivery", rotated, "",
			`not attempted: the queue manager had suspended deliveries to this destination after an earlier delivery to it failed ("Server certificate not verified"), and deferred this one without connecting; that earlier delivery is not in this log`, true, false},
		{"qmgr_deliver.c SUSPENDED: the suspension names another failure", other, "D6AFD984906",
			`not attempted: the queue manager had suspended deliveries to this destination after a delivery to it failed ("connect to mx.example.test[127.0.1.20]:25: Connection refused"), and deferred this one without connecting; the newest earlier failed delivery with connections, D6AFD984906 to user4@example.test at Dec 03 19:32:31, failed otherwise ("Server certificate not verified"); its attempts:`, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := explainString(t, c.log, nil)
			require.Equal(t, "76BD498491E", e.Latest.QueueID, "the newest failure is the late message's suspension")
			require.Equal(t, "none", e.Latest.Relay)
			reason, ok := e.Latest.Suspended()
			require.True(t, ok)
			require.NotEmpty(t, reason)
			require.Equal(t, c.story, e.Story[0])
			require.Equal(t, c.missing, slices.Contains(e.Missing, MissingAttempt), "%q", e.Missing)
			require.Equal(t, c.note, len(e.Notes) > 0, "%q", e.Notes)
			if c.attempted == "" {
				require.Nil(t, e.Attempted)
				require.Len(t, e.Story, 1)
				require.Empty(t, e.Findings, "no attempt, no finding from the log")
				return
			}
			require.NotNil(t, e.Attempted)
			require.Equal(t, c.attempted, e.Attempted.QueueID)
			require.Len(t, e.Story, 2)
			require.Contains(t, e.Story[1], "verification: untrusted issuer /O=Postfix TLS Oracle/CN=Oracle Other (untrusted) Root CA")
			require.Equal(t, finding.IssuerNotTrusted, e.Findings[0].Code)
		})
	}

	// With the configuration, the findings of the delivery that connected get the policy.
	s, err := policy.NewSettings(policy.MustParseVersion("3.7.11"), map[string]string{
		"smtp_tls_policy_maps": "inline:{example.test=verify}", "smtp_tls_CAfile": "/etc/postfix/rootca.pem"})
	require.NoError(t, err)
	e := explainString(t, full, s)
	require.NotNil(t, e.Policy)
	require.Equal(t, policy.Verify, e.Policy.Level)
	require.Equal(t, finding.IssuerNotTrusted, e.Findings[0].Code)
	require.Contains(t, e.Findings[0].Details, `configured: smtp_tls_CAfile = "/etc/postfix/rootca.pem", smtp_tls_CApath = ""`)

	// Delivery.Suspended: only a delivery without connections is a suspension.
	d := Delivery{Status: "deferred", Reason: "delivery temporarily suspended: Server certificate not verified"}
	r, ok := d.Suspended()
	require.True(t, ok)
	require.Equal(t, "Server certificate not verified", r)
	d.Attempts = []Attempt{{Server: "mx.example.test[127.0.1.20]:25"}}
	_, ok = d.Suspended()
	require.False(t, ok)
	_, ok = Delivery{Status: "deferred", Reason: "Server certificate not verified"}.Suspended()
	require.False(t, ok)
}

// TestLineForms: the same Postfix line in every syslog form the reader accepts gives the
// same program, pid and text; the timestamp is kept as logged.
func TestLineForms(t *testing.T) {
	const text = "ABCDE12345: to=<a@b.example>, relay=none, delay=1, dsn=4.4.1, status=deferred (x)"
	for _, c := range []struct{ line, logged, host string }{
		{"Feb  2 12:15:21 mx postfix/smtp[1520]: " + text, "Feb  2 12:15:21", "mx"},
		{"Feb  2 12:15:21 postfix/smtp[1520]: " + text, "Feb  2 12:15:21", ""},
		{"Feb 02 12:15:21 postfix/smtp[1520]: " + text, "Feb 02 12:15:21", ""},
		{"2026-02-02T12:15:21.123456+01:00 mx postfix/smtp[1520]: " + text, "2026-02-02T12:15:21.123456+01:00", "mx"},
		{"2026-02-02T12:15:21.123456+01:00 postfix/smtp[1520]: " + text, "2026-02-02T12:15:21.123456+01:00", ""},
		{"<22>1 2026-02-02T12:15:21Z mx postfix/smtp 1520 - - " + text, "2026-02-02T12:15:21Z", "mx"},
		{"<22>1 2026-02-02T12:15:21Z - postfix/smtp 1520 - [x@1 a=\"\\]\"] " + text, "2026-02-02T12:15:21Z", ""},
		{"<22>1 - mx postfix/smtp 1520 - - " + text, "", "mx"},
		{"<22>Feb  2 12:15:21 postfix/smtp[1520]: " + text, "Feb  2 12:15:21", ""},
		{"postfix/smtp[1520]: " + text, "", ""},
	} {
		l, err := ParseLine([]byte(c.line), 2026)
		require.NoError(t, err, c.line)
		require.Equal(t, text, l.Text, c.line)
		require.Equal(t, "postfix/smtp", l.Program, c.line)
		require.Equal(t, 1520, l.PID, c.line)
		require.Equal(t, c.logged, l.Logged, c.line)
		require.Equal(t, c.host, l.Host, c.line)
		ds, _ := readAll(t, c.line+"\n", Options{})
		require.Len(t, ds, 1, c.line)
		require.Equal(t, c.logged, ds[0].Logged, c.line)
	}
	// A host-less line after one with a host does not inherit it.
	ds, _ := readAll(t, "Feb  2 12:15:21 mx postfix/smtp[1]: "+text+"\nFeb  2 12:15:22 postfix/smtp[1]: "+text+"\n", Options{})
	require.Len(t, ds, 2)
	require.Equal(t, "", ds[1].Host)
	require.Equal(t, "Feb  2 12:15:22", ds[1].Logged)
}

// TestDeliveryJSONTime: JSON carries the timestamp as logged, never an invented year or zone.
func TestDeliveryJSONTime(t *testing.T) {
	ds, _ := readAll(t, "Feb  2 12:15:21 postfix/smtp[1]: ABCDE12345: to=<a@b.example>, relay=none, dsn=4.4.1, status=deferred (x)\n", Options{})
	require.Len(t, ds, 1)
	b, err := json.Marshal(ds[0])
	require.NoError(t, err)
	require.Contains(t, string(b), `"logged":"Feb  2 12:15:21"`)
	require.NotContains(t, string(b), `"time"`)
}

// TestCollectorCaps: beyond MaxDestinations destinations are counted, failing ones take
// the place of destinations that only succeeded, and the counts add up.
func TestCollectorCaps(t *testing.T) {
	ctx := context.Background()
	c := NewCollector(ExplainOptions{MaxDestinations: 10})
	var seq int64
	add := func(dom, status string) {
		seq++
		c.Add(ctx, Delivery{Recipient: "u@" + dom, Domain: dom, Status: status, Seq: seq})
	}
	for i := 0; i < 10; i++ {
		add(fmt.Sprintf("ok%d.example", i), "sent")
	}
	for i := 0; i < 15; i++ {
		add(fmt.Sprintf("bad%d.example", i), "deferred")
		add(fmt.Sprintf("bad%d.example", i), "deferred")
	}
	add("ok0.example", "sent")
	ex := c.Explanations(ctx)
	require.Len(t, ex, 10)
	st := c.Stats()
	require.Equal(t, int64(10), st.DestinationsEvicted)
	require.Equal(t, int64(6), st.DestinationsDropped, "bad10..bad14 and ok0 again")
	require.Equal(t, int64(11), st.DeliveriesDropped)
	require.Equal(t, int64(10), st.FailedDeliveriesDropped)
	require.False(t, st.DestinationsAtLeast)
	for _, e := range ex {
		require.Equal(t, 2, e.Deliveries)
	}
}

// TestCollectorEachStops: Each hands the explanations over in order, stops at fn's first
// error and returns it, with the goroutine that explains ahead of fn ended.
func TestCollectorEachStops(t *testing.T) {
	ctx := context.Background()
	c := NewCollector(ExplainOptions{})
	for i := 0; i < 200; i++ {
		dom := fmt.Sprintf("d%03d.example", i)
		c.Add(ctx, Delivery{Recipient: "u@" + dom, Domain: dom, Status: "deferred", Reason: "x", Seq: int64(i + 1)})
	}
	before := runtime.NumGoroutine()
	var got []string
	stop := errors.New("enough")
	err := c.Each(ctx, func(e *Explanation) error {
		got = append(got, e.Destination)
		if len(got) == 3 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, []string{"d199.example", "d198.example", "d197.example"}, got, "newest first")
	require.True(t, settles(before, false), "the goroutine explaining ahead did not end")
	all := c.Explanations(ctx)
	require.Len(t, all, 200)
	require.Equal(t, "d000.example", all[199].Destination)
}

// TestNth: the selection finds what a sort puts at k, duplicates and order whatever.
func TestNth(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	for n := 1; n < 300; n += 1 + n/7 {
		for _, spread := range []int64{1, 3, 1000} {
			v := make([]int64, n)
			for i := range v {
				v[i] = rnd.Int63n(spread)
			}
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			for _, k := range []int{0, n / 2, n - 1} {
				w := slices.Clone(v)
				require.Equal(t, sorted[k], nth(w, k), "n %d spread %d k %d", n, spread, k)
			}
		}
	}
}

// TestCapsForgetOnlyAtTheCap: processes are forgotten only when the cap is reached, and
// then the least recently seen half: a process with a connection line kept waiting while
// 600 others deliver twice (under the default cap of 1000) keeps it for its status line.
func TestCapsForgetOnlyAtTheCap(t *testing.T) {
	var sb strings.Builder
	line := func(pid int, text string) {
		fmt.Fprintf(&sb, "Nov 22 03:00:00 h postfix/smtp[%d]: %s\n", pid, text)
	}
	line(1, "connect to mx.slow.test[192.0.2.1]:25: Connection timed out")
	for round := 0; round < 2; round++ {
		for pid := 100; pid < 700; pid++ {
			line(pid, "setting up TLS connection to mx.example.test[192.0.2.9]:25")
			line(pid, fmt.Sprintf("%06X%d: to=<u@example.test>, relay=mx.example.test[192.0.2.9]:25, dsn=2.0.0, status=sent (ok)", pid, round))
		}
	}
	for pid := 800; pid < 803; pid++ {
		line(pid, "initializing the client-side TLS engine")
	}
	line(1, "ABCDEF1: to=<u@slow.test>, relay=none, delay=30, dsn=4.4.1, status=deferred (connect to mx.slow.test[192.0.2.1]:25: Connection timed out)")
	ds, r := readAll(t, sb.String(), Options{})
	last := ds[len(ds)-1]
	require.Equal(t, "u@slow.test", last.Recipient)
	require.Len(t, last.Attempts, 1, "the waiting connection line was forgotten")
	require.Contains(t, last.Attempts[0].ConnectError, "Connection timed out")
	require.Zero(t, r.Stats().EvictedProcesses+r.Stats().RetiredProcesses, "nothing forgotten under the cap")

	// Over a cap of 10: the least recently seen half goes (at or below the median: pids 1
	// to 6), the rest stays.
	sb.Reset()
	for pid := 1; pid <= 10; pid++ {
		line(pid, "connect to mx.slow.test[192.0.2.1]:25: Connection timed out")
	}
	for pid := 6; pid <= 10; pid++ {
		line(pid, "initializing the client-side TLS engine") // seen again: recent
	}
	line(11, "initializing the client-side TLS engine")
	for _, pid := range []int{7, 8, 9, 10, 1, 2, 3, 4, 5, 6} {
		line(pid, fmt.Sprintf("ABCDE%d: to=<u@slow.test>, relay=none, dsn=4.4.1, status=deferred (x)", pid))
	}
	ds, r = readAll(t, sb.String(), Options{MaxProcesses: 10})
	require.Len(t, ds, 10)
	for i, d := range ds {
		require.Equal(t, i < 4, len(d.Attempts) == 1, "%s", d.QueueID)
	}
	require.Equal(t, int64(6), r.Stats().EvictedProcesses)
}

// TestRFC5424UnterminatedSD: structured data that never closes is not a log line (it
// read past the line's end and panicked).
func TestRFC5424UnterminatedSD(t *testing.T) {
	for _, in := range []string{
		"<22>1 - h postfix/smtp 1 - [a",
		"<22>1 - h postfix/smtp 1 - [a\\]",
		"<22>1 - h postfix/smtp 1 - [a][b x=\"1\"",
		"<22>1 2026-11-22T03:00:00Z h postfix/smtp 1 - [a b=\"\\\\\"",
	} {
		_, err := ParseLine([]byte(in), 2026)
		require.ErrorIs(t, err, ErrNotLog, in)
		require.ErrorContains(t, err, "structured data", in)
		for _, w := range []int{1, 2} {
			ds, r := readAll(t, in+"\n"+in, Options{Workers: w})
			require.Empty(t, ds)
			require.Equal(t, int64(2), r.Stats().NotLog, in)
		}
	}
	l, err := ParseLine([]byte("<22>1 - h postfix/smtp 1 - [a b=\"\\]\"][c] x"), 2026)
	require.NoError(t, err)
	require.Equal(t, "x", l.Text)
}

// TestCollectorEachPanic: a panicking fn leaves no goroutine behind.
func TestCollectorEachPanic(t *testing.T) {
	ctx := context.Background()
	c := NewCollector(ExplainOptions{})
	for i := 0; i < 100; i++ {
		dom := fmt.Sprintf("p%03d.example", i)
		c.Add(ctx, Delivery{Recipient: "u@" + dom, Domain: dom, Status: "deferred", Seq: int64(i + 1)})
	}
	before := runtime.NumGoroutine()
	require.Panics(t, func() {
		c.Each(ctx, func(*Explanation) error { panic("fn") })
	})
	require.True(t, settles(before, false), "the goroutine explaining ahead did not end")
}
