package maillog

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"

	"github.com/postfixtls/postfixtls/policy/verdict"
)

// A log line is handled in two steps. parse reads everything that depends on the line
// alone (its header, what kind of line it is, the names, reasons and TLS details it
// carries) into a rec; it touches no Reader state, so the lines of a block are parsed on
// several goroutines at once. apply (reader.go) then hands the recs, in the log's order,
// to the state machine that keeps processes and queue IDs. The split is exact: parse
// decides every branch the line alone decides, and leaves to apply only the ones that
// depend on earlier lines (whether a process has an open attempt).

// recKind says what a parsed line asks of the state machine.
type recKind uint8

const (
	recEmpty   recKind = iota // a line with nothing but its line end
	recLong                   // longer than Options.MaxLineLength: skipped
	recNotLog                 // not a log line (err)
	recOther                  // a log line of no interest to the reader
	recVersion                // master's "daemon started -- version X" (op.text = X)
	recSMTP                   // an smtp(8)/lmtp(8) line (op)
	recQueue                  // a qmgr(8), error(8) or retry line (op: opRemoved, opStatus or opNone)
)

// opKind is what an smtp/lmtp or queue manager line does.
type opKind uint8

const (
	opNone            opKind = iota // noise: the process is seen, nothing else
	opWarning                       // the process's warnings get text
	opLibrary                       // "warning: TLS library problem: X": the open attempt's Library gets text2 (X), else the warnings get text
	opStatus                        // a status line of qid: the delivery di, or a diagnostic (badStatus)
	opIntermediate                  // "<qid>: reason" (text)
	opRemoved                       // qmgr's "<qid>: removed"
	opSession                       // an attempt for server (fresh: a new connection)
	opConnect                       // a new attempt with ConnectError text
	opHandshake                     // HandshakeError text
	opTLS                           // the TLS summary tls
	opVerify                        // a VerifyFailure {Purpose: text2, Text: text, Num: num}
	opSubject                       // depth=0 subject DN text, its CN text2
	opSubjectLine                   // subject_CN=... fields (subj)
	opName                          // a PeerName {Kind: text2, Name: text, Matched: flag}
	opReusedUntrusted               // "re-using session with untrusted peer credential"
	opSNI                           // the SNI name text
	opDANE                          // a DANE line text
	opPKey                          // the raw public key fingerprint text
	opUnrecognised                  // a line not understood (text: its clipped start)
)

// Status line problems (smtpOp.num of an opStatus without a delivery).
const (
	badStatusNoTo = 1 + iota
	badStatusNoStatus
)

// smtpOp is a parsed smtp/lmtp or queue manager line.
type smtpOp struct {
	kind    opKind
	fresh   bool // opSession, opConnect: a new connection
	matched bool // opName: PeerName.Matched
	num     int  // opVerify: the X509 error number; opStatus: badStatus... when di is 0
	server  string
	text    string
	text2   string
	qid     string
	tls     *TLSSummary
	subj    *subjectFields
	di      int   // opStatus: 1 + the index of the delivery in its piece's deliveries
	err     error // recNotLog: why the line is not a log line
}

// subjectFields are the parts of "subject_CN=X, issuer_CN=Y, fingerprint=F,
// pkey_fingerprint=P"; the has* flags say which were present.
type subjectFields struct {
	cn, issuer, fp, pk      string
	hasIssuer, hasFP, hasPK bool
}

// rec is one parsed line as apply needs it. It holds no pointers: the recs of a block
// (one per line, most of them noise) are written without write barriers and never
// scanned by the garbage collector; what a line carries beyond its kind lives in its
// piece's headers and ops, which only the lines that differ from the previous one, or
// that do something, add to.
type rec struct {
	n     int64   // bytes of the line, its line end included
	hdr   int32   // the index of its header in piece.hdrs (recOther and after)
	op    int32   // 1 + the index of its op in piece.ops (0: none, an opNone line)
	kind  recKind // what the line asks of the state machine
	flags uint8   // recPostfix
}

// rec.flags
const recPostfix = 1 // the line's tag is "syslog_name/service" (Stats.Postfix)

// lineParser parses lines into recs. Each goroutine has its own: it caches the names the
// lines repeat (host, timestamp, program) so that equal names share one string.
type lineParser struct {
	// the last server, protocol, cipher, details, subject CN, issuer, fingerprints, and
	// text of each kind of line (see own)
	last      [8]string
	lastText  [opUnrecognised + 1]string
	year      int
	hdr       header
	hostStr   string
	loggedStr string
	progs     map[string]progNames
	recent    [8]progNames // the programs seen last (recent[next] the newest)
	next      int
	// prevHdr is the last line's header bytes, prevLine the previous piece's last header
	// (see header); pre is the stamp and host of the last line parsed whole, preLine its
	// header (see parseHeader)
	prevHdr  []byte
	prevLine Line
	pre      []byte
	preLine  Line
	version  string // the last master version
	// pc is the piece being parsed; prevIdx the index in pc.hdrs of the previous line's
	// header (-1: not there yet)
	pc      *piece
	prevIdx int32
}

func newLineParser(year int) *lineParser {
	return &lineParser{year: year, progs: map[string]progNames{}}
}

// parse fills rc from one line (its line end removed, not empty), adding to lp.pc's
// headers, ops and deliveries what the line carries.
func (lp *lineParser) parse(b []byte, rc *rec) {
	pc := lp.pc
	hi, p, err := lp.header(b)
	if err != nil {
		rc.kind = recNotLog
		pc.ops = append(pc.ops, smtpOp{err: err})
		rc.op = int32(len(pc.ops))
		return
	}
	rc.hdr = hi
	l := &pc.hdrs[hi] // valid until the next header is added
	if l.SyslogName != "" {
		rc.flags |= recPostfix
	}
	text := b[p:]
	rc.kind = recOther
	var op smtpOp
	switch l.Service {
	case "master":
		if v, ok := bytes.CutPrefix(text, []byte("daemon started -- version ")); ok {
			if i := bytes.IndexByte(v, ','); i > 0 {
				rc.kind = recVersion
				if string(v[:i]) != lp.version {
					lp.version = string(v[:i])
				}
				op.text = lp.version
			}
		}
	case "smtp", "lmtp":
		rc.kind = recSMTP
		lp.parseSMTP(l, text, &op)
		lp.own(&op, text)
	case "qmgr", "error", "retry":
		rc.kind = recQueue
		qid, rest, ok := splitQID(text)
		if !ok {
			break
		}
		if string(rest) == "removed" {
			op.kind, op.qid = opRemoved, view(qid) // only looked up in apply, before the block is reused
			break
		}
		if bytes.HasPrefix(rest, []byte("to=<")) {
			t := string(text)
			lp.parseStatus(l, t[:len(qid)], t[len(text)-len(rest):], &op)
		}
	}
	if op.kind != opNone || rc.kind == recVersion {
		pc.ops = append(pc.ops, op)
		rc.op = int32(len(pc.ops))
	}
}

// header reads the header of b into lp.pc.hdrs and returns its index and the offset of
// the text. A process logs in bursts: a line whose header (stamp, host, tag and the space
// after it) is byte for byte the previous line's shares its entry (the first line of a
// piece gets a copy of the previous piece's, see endPiece). Not for RFC 5424 frames,
// whose text starts after a run of spaces of any length.
func (lp *lineParser) header(b []byte) (idx int32, p int, err error) {
	pc := lp.pc
	if n := len(lp.prevHdr); n > 0 && len(b) >= n && string(b[:n]) == string(lp.prevHdr) {
		if lp.prevIdx < 0 {
			pc.hdrs = append(pc.hdrs, lp.prevLine)
			lp.prevIdx = int32(len(pc.hdrs) - 1)
		}
		return lp.prevIdx, n, nil
	}
	pc.hdrs = append(pc.hdrs, Line{})
	if p, err = lp.parseHeader(b, &pc.hdrs[len(pc.hdrs)-1]); err != nil {
		pc.hdrs = pc.hdrs[:len(pc.hdrs)-1]
		return -1, 0, err
	}
	lp.prevIdx = -1
	if len(lp.prevHdr) > 0 {
		lp.prevIdx = int32(len(pc.hdrs) - 1)
	}
	return int32(len(pc.hdrs) - 1), p, nil
}

// startPiece makes pc the piece the next lines are parsed into.
func (lp *lineParser) startPiece(pc *piece) {
	pc.reset()
	lp.pc, lp.prevIdx = pc, -1
}

// endPiece ends the piece: its last header is kept for the next piece's first line.
func (lp *lineParser) endPiece() {
	if lp.prevIdx >= 0 {
		lp.prevLine = lp.pc.hdrs[lp.prevIdx]
	}
	lp.pc = nil
}

// maxCachedHeader bounds the header bytes header compares with the next line's.
const maxCachedHeader = 160

// parseHeader is parseLine with interning of host, timestamp and program names; it
// records the header bytes (lp.prevHdr) for header.
func (lp *lineParser) parseHeader(b []byte, l *Line) (int, error) {
	lp.prevHdr = lp.prevHdr[:0]
	h := &lp.hdr
	var p int
	if n := len(lp.pre); n > 0 && len(b) > n && b[n] != ' ' && string(b[:n]) == string(lp.pre) {
		// The stamp and host of the last line parsed whole (the tag is another process's):
		// only the tag is read.
		h.prog, h.pid = nil, 0
		var err error
		if p, err = parseTag(b, n, h); err != nil {
			return 0, err
		}
		l.Time, l.Logged, l.Host = lp.preLine.Time, lp.preLine.Logged, lp.preLine.Host
	} else {
		lp.pre = lp.pre[:0]
		var err error
		if p, err = parseLine(b, lp.year, h); err != nil {
			return 0, err
		}
		if string(h.host) != lp.hostStr {
			lp.hostStr = string(h.host)
		}
		if string(h.logged) != lp.loggedStr {
			lp.loggedStr = string(h.logged)
		}
		l.Time, l.Logged, l.Host = h.time, lp.loggedStr, lp.hostStr
		// The stamp and host (and the spaces after it) end where the tag starts; not for
		// RFC 5424 frames or lines without a host field.
		if tag := cap(b) - cap(h.prog); b[0] != '<' && h.host != nil && tag <= maxCachedHeader {
			lp.pre, lp.preLine = append(lp.pre, b[:tag]...), *l
		}
	}
	pl := lp.program(h.prog)
	l.PID = h.pid
	l.Program, l.SyslogName, l.Service = pl.Program, pl.SyslogName, pl.Service
	if b[0] != '<' && p > 0 && p <= maxCachedHeader && b[p-1] == ' ' {
		lp.prevHdr = append(lp.prevHdr, b[:p]...)
	}
	return p, nil
}

// program returns the program, syslog name and service of the tag prog, one string for
// each name: a log has few programs, most of them among the last few seen.
func (lp *lineParser) program(prog []byte) *progNames {
	for i := range lp.recent {
		if pl := &lp.recent[i]; pl.Program == string(prog) && pl.Program != "" {
			return pl
		}
	}
	pl, ok := lp.progs[string(prog)]
	if !ok {
		var l Line
		setProgram(&l, string(prog))
		pl = progNames{l.Program, l.SyslogName, l.Service}
		if len(lp.progs) >= 256 {
			clear(lp.progs)
		}
		lp.progs[pl.Program] = pl
	}
	lp.next = (lp.next + 1) % len(lp.recent)
	lp.recent[lp.next] = pl
	return &lp.recent[lp.next]
}

// progNames are the parts of a syslog tag (see Line).
type progNames struct{ Program, SyslogName, Service string }

// parseSMTP reads one line of an smtp(8) or lmtp(8) process. The strings it puts in op
// may point into b (lineParser.own copies them).
func (lp *lineParser) parseSMTP(l *Line, b []byte, op *smtpOp) {
	if plainNoise(b) {
		return
	}
	s := view(b)
	switch {
	case strings.HasPrefix(s, "warning: "):
		parseWarning(s, op)
		return
	case strings.HasPrefix(s, "fatal: "), strings.HasPrefix(s, "panic: "), strings.HasPrefix(s, "error: "):
		op.kind, op.text = opWarning, s
		return
	}
	if qid, _, ok := splitQID(b); ok {
		s = string(b) // a status line keeps most of its parts: one copy
		q, rs := s[:len(qid)], s[len(qid)+2:]
		if strings.HasPrefix(rs, "to=<") {
			lp.parseStatus(l, q, rs, op)
		} else if !strings.HasPrefix(rs, "enabling PIX workarounds") && !strings.HasPrefix(rs, "disabling PIX workarounds") {
			// (smtp_pix_workarounds notes are not failures)
			op.kind, op.qid, op.text = opIntermediate, q, rs
		}
		return
	}
	if parseTLSLine(s, op) {
		return
	}
	if server, rest, ok := splitNamaddr(s, ": "); ok {
		if parseServerLine(server, rest, op) {
			return
		}
	}
	if server, rest, ok := splitNamaddr(s, " "); ok {
		// Postfix <= 3.5 at loglevel 2: "host[addr]:port [Matched ]CommonName name".
		m := strings.HasPrefix(rest, "Matched ")
		rest = strings.TrimPrefix(rest, "Matched ")
		if cn, ok := strings.CutPrefix(rest, "CommonName "); ok {
			*op = smtpOp{kind: opName, server: server, text2: "CommonName", text: cn, matched: m}
			return
		}
	}
	if knownNoise(s) {
		return
	}
	if strings.Contains(s, "TLSA") || strings.Contains(s, "DANE") || strings.HasPrefix(s, "TLS policy lookup") {
		op.kind, op.text = opWarning, s
		return
	}
	op.kind, op.text = opUnrecognised, clip(b)
}

// view returns b as a string without copying it: valid only while b is unchanged.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// own replaces the strings of op that point into the line b by copies, so that op
// outlives the block's buffer. What the lines repeat (a connection's server, the same
// certificate's names and fingerprints, a cipher) is shared with the previous line's when
// equal.
func (lp *lineParser) own(op *smtpOp, b []byte) {
	if len(b) == 0 {
		return
	}
	lo := uintptr(unsafe.Pointer(&b[0]))
	hi := lo + uintptr(len(b))
	own := func(s *string) {
		if len(*s) == 0 {
			return
		}
		if p := uintptr(unsafe.Pointer(unsafe.StringData(*s))); p >= lo && p < hi {
			*s = strings.Clone(*s)
		}
	}
	// names a connection's lines repeat: shared with the previous line's when equal
	same := func(last, s *string) {
		if *s == "" {
			return
		}
		if *s == *last {
			*s = *last
			return
		}
		own(s)
		*last = *s
	}
	same(&lp.last[0], &op.server)
	same(&lp.lastText[op.kind], &op.text)
	if op.kind == opSubject {
		op.text2 = dnCN(op.text) // within the shared text
	}
	own(&op.text2)
	own(&op.qid)
	if t := op.tls; t != nil {
		same(&lp.last[1], &t.Protocol)
		same(&lp.last[2], &t.Cipher)
		same(&lp.last[3], &t.Details)
	}
	if f := op.subj; f != nil {
		same(&lp.last[4], &f.cn)
		same(&lp.last[5], &f.issuer)
		same(&lp.last[6], &f.fp)
		same(&lp.last[7], &f.pk)
	}
	if op.di > 0 {
		d := &lp.pc.dels[op.di-1]
		for _, s := range []*string{&d.QueueID, &d.Recipient, &d.OrigRecipient, &d.Domain, &d.Relay,
			&d.Delay, &d.Delays, &d.TLSFeature, &d.DSN, &d.Status, &d.Reason} {
			own(s)
		}
	}
}

// parseWarning reads "warning: ..." lines of smtp(8) (s with its prefix).
func parseWarning(s string, op *smtpOp) {
	w := s[len("warning: "):]
	if lib, ok := strings.CutPrefix(w, "TLS library problem: "); ok {
		op.kind, op.text, op.text2 = opLibrary, s, lib
		return
	}
	if server, rest, ok := splitNamaddr(w, ": "); ok && strings.Contains(rest, "TLSA") {
		op.kind, op.server, op.text = opDANE, server, "warning: "+rest
		return
	}
	op.kind, op.text = opWarning, s
}

// parseTLSLine reads the lines that name the server after a fixed prefix.
func parseTLSLine(s string, op *smtpOp) bool {
	if s == "" {
		return false
	}
	switch s[0] { // the first letters of the prefixes below
	case 's', 'c', 'S', 'A', 'U', 'T', 'V', 'C':
	default:
		return false
	}
	if rest, ok := strings.CutPrefix(s, "setting up TLS connection to "); ok {
		op.kind, op.server, op.fresh = opSession, rest, true
		return true
	}
	if rest, ok := strings.CutPrefix(s, "connect to "); ok {
		if server, _, ok := splitNamaddr(rest, ": "); ok {
			op.kind, op.server, op.fresh, op.text = opConnect, server, true, s
			return true
		}
	}
	if rest, ok := strings.CutPrefix(s, "SSL_connect error to "); ok {
		if server, why, ok := splitNamaddr(rest, ": "); ok {
			op.kind, op.server, op.text = opHandshake, server, why
			return true
		}
	}
	for _, w := range trustWords {
		if rest, ok := strings.CutPrefix(s, w); ok && strings.HasPrefix(rest, " TLS connection ") {
			return parseSummary(w, rest[len(" TLS connection "):], op)
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
		*op = smtpOp{kind: opVerify, server: server, text: why, text2: purpose}
		if n, ok := strings.CutPrefix(why, "num="); ok {
			if k := strings.IndexByte(n, ':'); k > 0 {
				op.num, _ = strconv.Atoi(n[:k])
			}
		}
		return true
	}
	return false
}

// parseSummary reads "established to host[addr]:port: TLSv1.3 with cipher X (128/128
// bits)...".
func parseSummary(trust, s string, op *smtpOp) bool {
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
	op.kind, op.server, op.tls = opTLS, server, ts
	return true
}

// parseServerLine reads "host[addr]:port: ..." lines.
func parseServerLine(server, rest string, op *smtpOp) bool {
	set := func(k opKind, text string) { *op = smtpOp{kind: k, server: server, text: text} }
	switch {
	case strings.HasPrefix(rest, "depth="):
		// "depth=0 verify=1 subject=/CN=x/O=y"
		set(opSession, "")
		if i := strings.Index(rest, " subject="); i > 0 && strings.HasPrefix(rest, "depth=0 ") {
			dn := rest[i+len(" subject="):]
			set(opSubject, dn) // its CN: see own
		}
	case strings.HasPrefix(rest, "subject_CN="):
		set(opSubjectLine, "")
		op.subj = parseSubjectLine(rest)
	case strings.HasPrefix(rest, "matched peername: "):
		set(opName, rest[len("matched peername: "):])
		op.text2, op.matched = "peername", true
	case strings.HasPrefix(rest, "Matched subjectAltName: "):
		set(opName, rest[len("Matched subjectAltName: "):])
		op.text2, op.matched = "subjectAltName", true
	case strings.HasPrefix(rest, "subjectAltName: "):
		set(opName, rest[len("subjectAltName: "):])
		op.text2 = "subjectAltName"
	case strings.HasPrefix(rest, "re-using session with untrusted"):
		set(opReusedUntrusted, "")
	case strings.HasPrefix(rest, "SNI hostname: "):
		set(opSNI, rest[len("SNI hostname: "):])
	case strings.HasPrefix(rest, "Matched "), strings.Contains(rest, "TLSA"):
		set(opDANE, rest)
	case strings.HasPrefix(rest, "raw public key fingerprint="):
		set(opPKey, rest[len("raw public key fingerprint="):])
	case strings.HasPrefix(rest, "TLS cipher list "), strings.HasPrefix(rest, "Reusing old session"),
		strings.HasPrefix(rest, "verify=") /* raw public key */ :
		set(opSession, "")
	default:
		return false
	}
	return true
}

// parseSubjectLine reads "subject_CN=X, issuer_CN=Y, fingerprint=F, pkey_fingerprint=P"
// (<= 3.8) or "subject_CN=X, issuer=Y, cert fingerprint=F, pkey fingerprint=P" (3.9+).
// CNs can contain ", ", so the fields are found by their names.
func parseSubjectLine(s string) *subjectFields {
	s = s[len("subject_CN="):]
	field := func(s string, names ...string) (before, value string, ok bool) {
		for _, n := range names {
			if i := strings.Index(s, ", "+n+"="); i >= 0 {
				return s[:i], s[i+len(n)+3:], true
			}
		}
		return s, "", false
	}
	f := &subjectFields{}
	cn, rest, ok := field(s, "issuer_CN", "issuer")
	f.cn = cn
	if !ok {
		return f
	}
	f.hasIssuer = true
	issuer, rest, ok := field(rest, "fingerprint", "cert fingerprint")
	f.issuer = issuer
	if !ok {
		return f
	}
	f.hasFP = true
	fp, pk, ok := field(rest, "pkey_fingerprint", "pkey fingerprint")
	f.fp = fp
	if ok {
		f.hasPK, f.pk = true, pk
	}
	return f
}

// parseStatus reads "<qid>: to=<...>, relay=..., ..., status=word (reason)" (s from "to=<").
func (lp *lineParser) parseStatus(l *Line, qid, s string, op *smtpOp) {
	op.kind, op.qid = opStatus, qid
	i := strings.Index(s, ">, ")
	if i < 0 {
		op.num, op.text = badStatusNoTo, clip([]byte(s))
		return
	}
	dels := &lp.pc.dels
	*dels = append(*dels, Delivery{QueueID: qid, Time: l.Time, Logged: l.Logged, Host: l.Host, Program: l.Program, PID: l.PID})
	d := &(*dels)[len(*dels)-1]
	d.Recipient = s[len("to=<"):i]
	rest := s[i+3:]
	st := strings.Index(rest, "status=")
	if st < 0 {
		*dels = (*dels)[:len(*dels)-1]
		op.num, op.text = badStatusNoStatus, clip([]byte(s))
		return
	}
	fields := rest[:st]
	fields = strings.TrimSuffix(fields, ", ")
	for {
		f, more, found := strings.Cut(fields, ", ")
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
		if !found {
			break
		}
		fields = more
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
	op.di = len(*dels)
}
