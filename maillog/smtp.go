package maillog

import (
	"bytes"
	"strings"

	"github.com/postfixtls/postfixtls/policy/verdict"
)

// Trust words of the TLS summary line.
var trustWords = [...]string{"Anonymous", "Untrusted", "Trusted", "Verified"}

// applySMTP applies one parsed line of an smtp(8) or lmtp(8) process.
func (r *Reader) applySMTP(l *Line, op *smtpOp, dels []Delivery) {
	p := r.proc(l)
	sess := func() *Attempt { return r.session(l, p, op.server, op.fresh) }
	switch op.kind {
	case opNone:
	case opWarning:
		p.warnings = appendCapped(p.warnings, op.text)
	case opLibrary:
		if a := lastOpen(p); a != nil && len(a.Library) < maxPerList {
			a.Library = append(a.Library, op.text2)
			return
		}
		p.warnings = appendCapped(p.warnings, op.text)
	case opStatus:
		r.status(l, op, dels)
	case opIntermediate:
		r.intermediate(l, p, op.qid, op.text)
	case opSession:
		sess()
	case opConnect:
		sess().ConnectError = op.text
	case opHandshake:
		sess().HandshakeError = op.text
	case opTLS:
		sess().TLS = op.tls
	case opVerify:
		a := sess()
		if len(a.Verify) < maxPerList {
			a.Verify = append(a.Verify, VerifyFailure{Purpose: op.text2, Text: op.text, Num: verdict.X509Error(op.num)})
		}
	case opSubject:
		a := sess()
		if dn := op.text; len(a.Subjects) == 0 || a.Subjects[0] != dn {
			a.Subjects = append([]string{dn}, a.Subjects...)
			if op.text2 != "" {
				a.Names = appendName(a.Names, PeerName{Kind: "subject", Name: op.text2})
			}
		}
	case opSubjectLine:
		a, f := sess(), op.subj
		a.SubjectCN = f.cn
		if f.cn != "" {
			a.Names = appendName(a.Names, PeerName{Kind: "subject_CN", Name: f.cn})
		}
		if f.hasIssuer {
			a.IssuerCN = f.issuer
		}
		if f.hasFP {
			a.CertFingerprint = f.fp
		}
		if f.hasPK {
			a.PKeyFingerprint = f.pk
		}
	case opName:
		a := sess()
		a.Names = appendName(a.Names, PeerName{Kind: op.text2, Name: op.text, Matched: op.matched})
	case opReusedUntrusted:
		sess().ReusedUntrusted = true
	case opSNI:
		sess().SNI = op.text
	case opDANE:
		a := sess()
		a.DANE = appendCapped(a.DANE, op.text)
	case opPKey:
		sess().PKeyFingerprint = op.text
	case opUnrecognised:
		r.stats.Unrecognised++
		r.diagKind("not understood "+l.Program, "%s[%d]: line not understood: %q", l.Program, l.PID, op.text)
	}
}

func appendName(n []PeerName, x PeerName) []PeerName {
	if len(n) >= maxPerList {
		return n
	}
	if n == nil {
		n = make([]PeerName, 0, 4) // a certificate's names come a few at a time
	}
	return append(n, x)
}

// noisePrefixes start the lines of smtp_tls_loglevel 2 and 3 that carry nothing for the
// explanation (OpenSSL state machine, session cache, engine start). "Verified " (the
// verify callback's line) is not among them: "Verified TLS connection established" is a
// TLS summary.
var noisePrefixes = [...]string{"SSL_connect:", "initializing the client-side TLS engine",
	"looking for session ", "reloaded session ", "save session ", "remove session ",
	"TLS protocol trace", "SSL3 alert ", "skipping TLS trace", "read from ", "write to ",
	"using backwards-compatible default setting", "tls_library_init:", "enabling PIX workarounds",
	"disabling PIX workarounds"}

// knownNoise reports the lines that carry nothing for the explanation: noisePrefixes, the
// verify callback's "Verified ..." and hex dumps.
func knownNoise(s string) bool {
	for _, p := range noisePrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return strings.HasPrefix(s, "Verified ") ||
		len(s) > 6 && s[4] == ' ' && s[0] >= '0' && s[0] <= '9' // hex dumps "0000 16 03 ..."
}

// plainNoise reports a noise line that no other rule of smtpLine can take: it starts with
// one of noisePrefixes and has no '[' (so it names no server). Most lines of loglevel 2
// are such lines; smtpLine skips them before converting them to a string.
func plainNoise(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case 'S', 'i', 'l', 'r', 's', 'T', 'w', 'u', 't', 'e', 'd':
	default:
		return false
	}
	for _, p := range noisePrefixes {
		if p[0] == b[0] && len(b) >= len(p) && string(b[:len(p)]) == p {
			return bytes.IndexByte(b[len(p):], '[') < 0
		}
	}
	return false
}

// dnCN returns the CN of an OpenSSL one-line DN ("/CN=x/O=y").
func dnCN(dn string) string {
	for rest := dn; ; {
		part, more, found := strings.Cut(rest, "/")
		if v, ok := strings.CutPrefix(part, "CN="); ok {
			return v
		}
		if !found {
			return ""
		}
		rest = more
	}
}

// intermediate handles "<qid>: reason": Postfix gave up on one server and tries the next
// (or, for the last one, logs the status line next).
func (r *Reader) intermediate(l *Line, p *proc, qid, reason string) {
	if a := lastOpen(p); a != nil && a.Reason == "" {
		a.Reason = reason
	} else {
		server := serverIn(reason)
		a := r.session(l, p, server, true)
		a.Reason = reason
	}
	r.attach(p, qid)
}

// serverIn finds "host[addr]" in a reason text ("... by host mx.example[192.0.2.1]").
func serverIn(s string) string {
	j := strings.IndexByte(s, '[')
	if j <= 0 {
		return ""
	}
	k := strings.IndexByte(s[j:], ']')
	if k < 0 {
		return ""
	}
	i := strings.LastIndexByte(s[:j], ' ') + 1
	if i == j {
		return ""
	}
	return s[i : j+k+1]
}

// status applies a parsed status line ("<qid>: to=<...>, relay=..., status=...").
func (r *Reader) status(l *Line, op *smtpOp, dels []Delivery) {
	if op.di == 0 {
		if op.num == badStatusNoTo {
			r.diag("status line without \"to=<...>, \": %q", op.text)
		} else {
			r.diag("status line without status=: %q", op.text)
		}
		return
	}
	d, qid := dels[op.di-1], op.qid
	d.Seq = r.seq
	var q *queue
	if l.Service == "smtp" || l.Service == "lmtp" {
		p := r.proc(l)
		q = r.attach(p, qid)
		// The last attempt for the relay is the deciding one.
		if d.Relay != "" && d.Relay != "none" && !q.statusSeen {
			found := false
			for k := len(q.attempts) - 1; k >= 0; k-- {
				if sameServer(q.attempts[k].Server, d.Relay) {
					q.attempts[k].Final = true
					if q.attempts[k].Reason == "" && d.Status != "sent" {
						q.attempts[k].Reason = d.Reason
					}
					found = true
					break
				}
			}
			if !found && len(q.attempts) < maxAttempts {
				a := Attempt{PID: l.PID, Time: l.Time, Logged: l.Logged, Final: true}
				setServer(&a, d.Relay)
				if d.Status != "sent" {
					a.Reason = d.Reason
				}
				q.attempts = append(q.attempts, a)
			}
		}
	} else {
		q = r.queue(qid)
		if q.statusSeen {
			q.attempts, q.warnings = nil, nil
		}
		q.attempts, q.warnings = nil, nil // qmgr/error statuses have no attempts of their own
	}
	q.statusSeen = true
	d.Attempts = q.attempts[:len(q.attempts):len(q.attempts)]
	d.Warnings = q.warnings[:len(q.warnings):len(q.warnings)]
	if len(d.Attempts) == 0 {
		d.Attempts = nil
	}
	if len(d.Warnings) == 0 {
		d.Warnings = nil
	}
	if l.Service != "smtp" && l.Service != "lmtp" {
		r.dropQID(qid)
	}
	r.stats.Deliveries++
	r.ready = append(r.ready, d)
}
