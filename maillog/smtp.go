package maillog

import (
	"strconv"
	"strings"

	"github.com/postfixtls/postfixtls/policy/verdict"
)

// Trust words of the TLS summary line.
var trustWords = [...]string{"Anonymous", "Untrusted", "Trusted", "Verified"}

// smtpLine handles one line of an smtp(8) or lmtp(8) process.
func (r *Reader) smtpLine(l *Line, s string) {
	p := r.proc(l)
	switch {
	case strings.HasPrefix(s, "warning: "):
		r.warning(l, p, s[len("warning: "):])
		return
	case strings.HasPrefix(s, "fatal: "), strings.HasPrefix(s, "panic: "), strings.HasPrefix(s, "error: "):
		p.warnings = appendCapped(p.warnings, s)
		return
	}
	if qid, rest, ok := splitQID([]byte(s)); ok {
		q, rs := string(qid), s[len(qid)+2:]
		_ = rest
		if strings.HasPrefix(rs, "to=<") {
			r.status(l, q, rs)
		} else {
			r.intermediate(l, p, q, rs)
		}
		return
	}
	if r.tlsLine(l, p, s) {
		return
	}
	if server, rest, ok := splitNamaddr(s, ": "); ok {
		if r.serverLine(l, p, server, rest) {
			return
		}
	}
	if server, rest, ok := splitNamaddr(s, " "); ok {
		// Postfix <= 3.5 at loglevel 2: "host[addr]:port [Matched ]CommonName name".
		m := strings.HasPrefix(rest, "Matched ")
		rest = strings.TrimPrefix(rest, "Matched ")
		if cn, ok := strings.CutPrefix(rest, "CommonName "); ok {
			a := r.session(l, p, server, false)
			a.Names = appendName(a.Names, PeerName{Kind: "CommonName", Name: cn, Matched: m})
			return
		}
	}
	if knownNoise(s) {
		return
	}
	if strings.Contains(s, "TLSA") || strings.Contains(s, "DANE") || strings.HasPrefix(s, "TLS policy lookup") {
		p.warnings = appendCapped(p.warnings, s)
		return
	}
	r.stats.Unrecognised++
	r.diagKind("not understood "+l.Program, "%s[%d]: line not understood: %q", l.Program, l.PID, clip([]byte(s)))
}

func appendName(n []PeerName, x PeerName) []PeerName {
	if len(n) >= maxPerList {
		return n
	}
	return append(n, x)
}

// knownNoise lists the lines of smtp_tls_loglevel 2 and 3 that carry nothing for the
// explanation (OpenSSL state machine, session cache, engine start).
func knownNoise(s string) bool {
	for _, p := range [...]string{"SSL_connect:", "initializing the client-side TLS engine",
		"looking for session ", "reloaded session ", "save session ", "remove session ",
		"TLS protocol trace", "SSL3 alert ", "skipping TLS trace", "read from ", "write to ",
		"using backwards-compatible default setting", "tls_library_init:", "enabling PIX workarounds",
		"disabling PIX workarounds", "Verified "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return len(s) > 6 && s[4] == ' ' && s[0] >= '0' && s[0] <= '9' // hex dumps "0000 16 03 ..."
}

// tlsLine handles lines that name the server after a fixed prefix.
func (r *Reader) tlsLine(l *Line, p *proc, s string) bool {
	if rest, ok := strings.CutPrefix(s, "setting up TLS connection to "); ok {
		r.session(l, p, rest, true)
		return true
	}
	if rest, ok := strings.CutPrefix(s, "connect to "); ok {
		if server, why, ok := splitNamaddr(rest, ": "); ok {
			a := r.session(l, p, server, true)
			a.ConnectError = s
			_ = why
			return true
		}
	}
	if rest, ok := strings.CutPrefix(s, "SSL_connect error to "); ok {
		if server, why, ok := splitNamaddr(rest, ": "); ok {
			a := r.session(l, p, server, false)
			a.HandshakeError = why
			return true
		}
	}
	for _, w := range trustWords {
		if rest, ok := strings.CutPrefix(s, w); ok && strings.HasPrefix(rest, " TLS connection ") {
			return r.summary(l, p, w, rest[len(" TLS connection "):])
		}
	}
	purpose := ""
	rest := s
	if x, ok := strings.CutPrefix(s, "server "); ok {
		purpose, rest = "server", x
	} else if x, ok := strings.CutPrefix(s, "CA "); ok {
		purpose, rest = "CA", x
	}
	if x, ok := strings.CutPrefix(rest, "certificate verification failed for "); ok {
		server, why, ok := splitNamaddr(x, ": ")
		if !ok {
			// DANE's "host:port: num=..." form (tls_dane.c) has no brackets.
			i := strings.Index(x, ": ")
			if i < 0 {
				return false
			}
			server, why = x[:i], x[i+2:]
		}
		a := r.session(l, p, server, false)
		vf := VerifyFailure{Purpose: purpose, Text: why}
		if n, ok := strings.CutPrefix(why, "num="); ok {
			if k := strings.IndexByte(n, ':'); k > 0 {
				num, _ := strconv.Atoi(n[:k])
				vf.Num = verdict.X509Error(num)
			}
		}
		if len(a.Verify) < maxPerList {
			a.Verify = append(a.Verify, vf)
		}
		return true
	}
	return false
}

// summary parses "established to host[addr]:port: TLSv1.3 with cipher X (128/128 bits)...".
func (r *Reader) summary(l *Line, p *proc, trust, s string) bool {
	reused := false
	switch {
	case strings.HasPrefix(s, "established to "):
		s = s[len("established to "):]
	case strings.HasPrefix(s, "reused to "):
		s, reused = s[len("reused to "):], true
	default:
		return false
	}
	server, rest, ok := splitNamaddr(s, ": ")
	if !ok {
		return false
	}
	ts := &TLSSummary{Trust: verdict.TrustWord(trust), Reused: reused}
	proto, rest, _ := strings.Cut(rest, " with cipher ")
	ts.Protocol = proto
	cipher, rest, _ := strings.Cut(rest, " (")
	ts.Cipher = cipher
	bits, rest, ok := strings.Cut(rest, " bits)")
	if ok {
		a, b, _ := strings.Cut(bits, "/")
		ts.Bits, _ = strconv.Atoi(a)
		ts.AlgBits, _ = strconv.Atoi(b)
		ts.Details = strings.TrimSpace(rest)
	}
	a := r.session(l, p, server, false)
	a.TLS = ts
	return true
}

// serverLine handles "host[addr]:port: ..." lines.
func (r *Reader) serverLine(l *Line, p *proc, server, rest string) bool {
	a := func() *Attempt { return r.session(l, p, server, false) }
	switch {
	case strings.HasPrefix(rest, "depth="):
		// "depth=0 verify=1 subject=/CN=x/O=y"
		at := a()
		if i := strings.Index(rest, " subject="); i > 0 && strings.HasPrefix(rest, "depth=0 ") {
			dn := rest[i+len(" subject="):]
			if len(at.Subjects) == 0 || at.Subjects[0] != dn {
				at.Subjects = append([]string{dn}, at.Subjects...)
				if cn := dnCN(dn); cn != "" {
					at.Names = appendName(at.Names, PeerName{Kind: "subject", Name: cn})
				}
			}
		}
		return true
	case strings.HasPrefix(rest, "subject_CN="):
		at := a()
		parseSubjectLine(at, rest)
		return true
	case strings.HasPrefix(rest, "matched peername: "):
		at := a()
		at.Names = appendName(at.Names, PeerName{Kind: "peername", Name: rest[len("matched peername: "):], Matched: true})
		return true
	case strings.HasPrefix(rest, "Matched subjectAltName: "):
		at := a()
		at.Names = appendName(at.Names, PeerName{Kind: "subjectAltName", Name: rest[len("Matched subjectAltName: "):], Matched: true})
		return true
	case strings.HasPrefix(rest, "subjectAltName: "):
		at := a()
		at.Names = appendName(at.Names, PeerName{Kind: "subjectAltName", Name: rest[len("subjectAltName: "):]})
		return true
	case strings.HasPrefix(rest, "re-using session with untrusted"):
		a().ReusedUntrusted = true
		return true
	case strings.HasPrefix(rest, "SNI hostname: "):
		a().SNI = rest[len("SNI hostname: "):]
		return true
	case strings.HasPrefix(rest, "Matched "), strings.Contains(rest, "TLSA"):
		at := a()
		at.DANE = appendCapped(at.DANE, rest)
		return true
	case strings.HasPrefix(rest, "raw public key fingerprint="):
		a().PKeyFingerprint = rest[len("raw public key fingerprint="):]
		return true
	case strings.HasPrefix(rest, "TLS cipher list "), strings.HasPrefix(rest, "Reusing old session"),
		strings.HasPrefix(rest, "verify=") /* raw public key */ :
		a()
		return true
	}
	return false
}

// parseSubjectLine reads "subject_CN=X, issuer_CN=Y, fingerprint=F, pkey_fingerprint=P"
// (<= 3.8) or "subject_CN=X, issuer=Y, cert fingerprint=F, pkey fingerprint=P" (3.9+).
// CNs can contain ", ", so the fields are found by their names.
func parseSubjectLine(a *Attempt, s string) {
	s = s[len("subject_CN="):]
	field := func(s string, names ...string) (before, value string, ok bool) {
		for _, n := range names {
			if i := strings.Index(s, ", "+n+"="); i >= 0 {
				return s[:i], s[i+len(n)+3:], true
			}
		}
		return s, "", false
	}
	cn, rest, ok := field(s, "issuer_CN", "issuer")
	a.SubjectCN = cn
	if cn != "" {
		a.Names = appendName(a.Names, PeerName{Kind: "subject_CN", Name: cn})
	}
	if !ok {
		return
	}
	issuer, rest, ok := field(rest, "fingerprint", "cert fingerprint")
	a.IssuerCN = issuer
	if !ok {
		return
	}
	fp, pk, ok := field(rest, "pkey_fingerprint", "pkey fingerprint")
	a.CertFingerprint = fp
	if ok {
		a.PKeyFingerprint = pk
	}
}

// dnCN returns the CN of an OpenSSL one-line DN ("/CN=x/O=y").
func dnCN(dn string) string {
	for _, part := range strings.Split(dn, "/") {
		if v, ok := strings.CutPrefix(part, "CN="); ok {
			return v
		}
	}
	return ""
}

// warning handles "warning: ..." lines of smtp(8).
func (r *Reader) warning(l *Line, p *proc, w string) {
	if lib, ok := strings.CutPrefix(w, "TLS library problem: "); ok {
		if a := lastOpen(p); a != nil && len(a.Library) < maxPerList {
			a.Library = append(a.Library, lib)
			return
		}
	}
	if server, rest, ok := splitNamaddr(w, ": "); ok && strings.Contains(rest, "TLSA") {
		a := r.session(l, p, server, false)
		a.DANE = appendCapped(a.DANE, "warning: "+rest)
		return
	}
	p.warnings = appendCapped(p.warnings, "warning: "+w)
}

// intermediate handles "<qid>: reason": Postfix gave up on one server and tries the next
// (or, for the last one, logs the status line next).
func (r *Reader) intermediate(l *Line, p *proc, qid, reason string) {
	if strings.HasPrefix(reason, "enabling PIX workarounds") || strings.HasPrefix(reason, "disabling PIX workarounds") {
		return // smtp_pix_workarounds notes, not a failure
	}
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

// status handles "<qid>: to=<...>, relay=..., ..., status=word (reason)".
func (r *Reader) status(l *Line, qid, s string) {
	d := Delivery{QueueID: qid, Time: l.Time, Logged: l.Logged, Host: l.Host, Program: l.Program, PID: l.PID, Seq: r.seq}
	i := strings.Index(s, ">, ")
	if i < 0 {
		r.diag("status line without \"to=<...>, \": %q", clip([]byte(s)))
		return
	}
	d.Recipient = s[len("to=<"):i]
	rest := s[i+3:]
	st := strings.Index(rest, "status=")
	if st < 0 {
		r.diag("status line without status=: %q", clip([]byte(s)))
		return
	}
	for _, f := range strings.Split(strings.TrimSuffix(rest[:st], ", "), ", ") {
		name, val, _ := strings.Cut(f, "=")
		switch name {
		case "orig_to":
			d.OrigRecipient = strings.Trim(val, "<>")
		case "relay":
			d.Relay = val
		case "delay":
			d.Delay = val
		case "delays":
			d.Delays = val
		case "tls":
			d.TLSFeature = val
		case "dsn":
			d.DSN = val
		}
	}
	word, reason, _ := strings.Cut(rest[st+len("status="):], " ")
	d.Status = word
	if strings.HasPrefix(reason, "(") && strings.HasSuffix(reason, ")") {
		reason = reason[1 : len(reason)-1]
	}
	d.Reason = reason
	if at := strings.LastIndexByte(d.Recipient, '@'); at >= 0 {
		d.Domain = strings.ToLower(d.Recipient[at+1:])
	}
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
		delete(r.qids, qid)
	}
	r.stats.Deliveries++
	r.ready = append(r.ready, d)
}
