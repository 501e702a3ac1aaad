package maillog

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Options bound the reader's memory and say how to read timestamps.
type Options struct {
	// MaxLineLength is the longest line read whole (default 32768 bytes); the rest of a
	// longer line is skipped with a diagnostic.
	MaxLineLength int
	// MaxOpenQueueIDs caps the queue IDs the reader keeps (default 2000: Postfix runs at
	// most default_process_limit = 100 delivery agents at once, each on one queue ID);
	// MaxProcesses caps the smtp(8)/lmtp(8) processes it keeps (default 1000). The entries
	// are kept in two generations: a new entry, or one seen again, is in the newer one;
	// when that holds half the cap, the older generation (what was not seen since, all of
	// it less recently seen than what is kept) is forgotten.
	// Forgetting a queue ID whose pass has ended, or a process with no unclaimed lines,
	// loses nothing (Stats.Retired...); forgetting one with lines still waiting for their
	// status line is counted in Stats.Evicted... and reported with a diagnostic.
	MaxOpenQueueIDs int
	MaxProcesses    int
	// MaxDiagnostics caps the kinds of diagnostics kept (default 100; repeats of a kind are
	// counted in its Diagnostic.Count); diagnostics of further kinds are only counted
	// (Stats.DiagnosticsDropped).
	MaxDiagnostics int
	// Year is the year of RFC 3164 timestamps, which carry none (default: the current year).
	Year int
	// Workers is the number of goroutines that parse lines (default runtime.GOMAXPROCS(0),
	// at most 8). With 1, Next reads and parses in the caller's goroutine. With more, a
	// goroutine of the Reader's reads the input and parses it a few blocks ahead (a block is
	// about 256 KiB; Workers-2 helper goroutines parse with it) while Next applies the
	// parsed lines, in their order, to the state machine in the caller's goroutine, and
	// parses pieces of the block under way while it has nothing to apply. The goroutine
	// ends at the input's end, with Close, or when the Reader is dropped.
	Workers int
}

// Stats counts what the reader did.
type Stats struct {
	Lines, Bytes int64
	// Parsed lines had a syslog tag; Postfix ones a "syslog_name/service" tag as Postfix
	// writes it; Relevant ones came from smtp, lmtp, qmgr, error or retry.
	Parsed, Postfix, Relevant int64
	// Unrecognised smtp/lmtp lines and lines that were not log lines at all.
	Unrecognised, NotLog int64
	// Deliveries emitted. EvictedQueueIDs counts the queue IDs with connection lines whose
	// status line had not come yet and EvictedProcesses the processes with connection lines
	// not yet claimed by a queue ID, which the caps forgot: those lines are lost (a later
	// status line then lacks its attempts). RetiredQueueIDs and RetiredProcesses count the
	// state the caps forgot that held nothing pending (a pass over, an idle process).
	Deliveries, EvictedQueueIDs, EvictedProcesses int64
	RetiredQueueIDs, RetiredProcesses             int64
	// Diagnostics counts every diagnostic (every repeat included); DiagnosticsDropped
	// those of kinds beyond MaxDiagnostics.
	Diagnostics, DiagnosticsDropped int64
}

// Reader rebuilds deliveries from a Postfix log stream, line by line. It is not safe for
// concurrent use; memory is bounded by Options (and a few blocks of input).
type Reader struct {
	opt   Options
	seq   int64
	procs recentMap[procKey, *proc]
	// lastProc is procs[lastKey], the process of the last smtp/lmtp line (nil when unknown)
	lastProc *proc
	lastKey  procKey
	qids     recentMap[string, *queue]
	ready    []Delivery // ready[head:] are not yet returned
	head     int
	diags    []Diagnostic
	diagIdx  map[string]int // kind -> index in diags
	stats    Stats
	err      error // returned once ready is empty
	version  string
	// The input is read and parsed in blocks of whole lines (block.go).
	src   *source
	ahead *ahead // the read-ahead goroutine (nil until the first block with several workers)
}

type procKey struct {
	host string
	pid  int
}

type proc struct {
	pending  []Attempt // the newest last; pointers into it are used at once, never kept
	warnings []string
	lastQID  string
}

type queue struct {
	attempts   []Attempt
	warnings   []string
	statusSeen bool
}

const (
	maxPending   = 32
	maxWarnings  = 16
	maxPerList   = 32
	maxAttempts  = 64
	defaultLine  = 32768
	defaultQIDs  = 2000
	defaultProcs = 1000
	defaultDiags = 100
)

// NewReader returns a Reader of r.
func NewReader(r io.Reader, opt Options) *Reader {
	if opt.MaxLineLength <= 0 {
		opt.MaxLineLength = defaultLine
	}
	if opt.MaxLineLength < 64 {
		opt.MaxLineLength = 64
	}
	if opt.MaxOpenQueueIDs <= 0 {
		opt.MaxOpenQueueIDs = defaultQIDs
	}
	if opt.MaxProcesses <= 0 {
		opt.MaxProcesses = defaultProcs
	}
	if opt.MaxDiagnostics <= 0 {
		opt.MaxDiagnostics = defaultDiags
	}
	if opt.Year == 0 {
		opt.Year = time.Now().Year()
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	opt.Workers = min(opt.Workers, 8)
	rd := &Reader{
		src:     &source{src: r, maxLine: opt.MaxLineLength, free: make(chan *block, aheadBlocks+2)},
		opt:     opt,
		procs:   newRecentMap[procKey, *proc](opt.MaxProcesses),
		qids:    newRecentMap[string, *queue](opt.MaxOpenQueueIDs),
		diagIdx: map[string]int{},
	}
	for range opt.Workers {
		rd.src.parsers = append(rd.src.parsers, newLineParser(opt.Year))
	}
	return rd
}

// Next returns the next delivery (status line) with its attempts. It returns io.EOF at the
// end of the input, ctx.Err() when ctx is done, or the read error of the underlying reader.
func (r *Reader) Next(ctx context.Context) (Delivery, error) {
	for r.head == len(r.ready) {
		if r.err != nil {
			return Delivery{}, r.err
		}
		if err := ctx.Err(); err != nil {
			return Delivery{}, err
		}
		r.step(ctx)
	}
	d := r.ready[r.head]
	r.ready[r.head] = Delivery{}
	if r.head++; r.head == len(r.ready) {
		r.ready, r.head = r.ready[:0], 0 // the deliveries of one block: reused
	}
	return d, nil
}

// Diagnostics returns the diagnostics so far, one per kind (at most Options.MaxDiagnostics),
// in the order of their first occurrence.
func (r *Reader) Diagnostics() []Diagnostic { return r.diags }

// Version returns the Postfix version the log's "daemon started -- version X" line
// showed last ("" when none).
func (r *Reader) Version() string { return r.version }

// Stats returns the counters so far.
func (r *Reader) Stats() Stats { return r.stats }

// Open returns the number of open queue IDs and processes (for memory checks).
func (r *Reader) Open() (queueIDs, processes int) { return r.qids.len(), r.procs.len() }

// diag records a diagnostic whose kind is its format.
func (r *Reader) diag(format string, a ...any) { r.diagKind(format, format, a...) }

// diagKind records a diagnostic of kind: repeats of a kind are counted, not kept.
func (r *Reader) diagKind(kind, format string, a ...any) {
	r.stats.Diagnostics++
	if i, ok := r.diagIdx[kind]; ok {
		r.diags[i].Count++
		r.diags[i].LastLine = r.seq
		return
	}
	if len(r.diags) >= r.opt.MaxDiagnostics {
		r.stats.DiagnosticsDropped++
		return
	}
	r.diagIdx[kind] = len(r.diags)
	r.diags = append(r.diags, Diagnostic{Line: r.seq, Text: fmt.Sprintf(format, a...), Count: 1, LastLine: r.seq})
}

// apply hands one parsed line of the piece pc to the state machine (pc is nil for the
// recLong recs of a block's start and end).
func (r *Reader) apply(rc *rec, pc *piece) {
	r.seq++
	r.stats.Lines++
	r.stats.Bytes += rc.n
	switch rc.kind {
	case recEmpty:
		return
	case recLong:
		r.diag("line longer than %d bytes skipped", r.opt.MaxLineLength)
		return
	case recNotLog:
		r.stats.NotLog++
		err := pc.ops[rc.op-1].err
		// the kind is the error without its quoted part ("bad RFC 3164 timestamp")
		msg := err.Error()
		if i := strings.IndexByte(msg, '"'); i > 0 && !strings.HasSuffix(msg, "comment") {
			msg = msg[:i]
		}
		r.diagKind(msg, "%v", err)
		return
	}
	r.stats.Parsed++
	if rc.flags&recPostfix != 0 {
		r.stats.Postfix++
	}
	switch rc.kind {
	case recVersion:
		r.version = pc.ops[rc.op-1].text
	case recSMTP:
		r.stats.Relevant++
		l := &pc.hdrs[rc.hdr]
		if rc.op == 0 {
			r.proc(l) // noise: the process is seen, nothing else
			return
		}
		r.applySMTP(l, &pc.ops[rc.op-1], pc.dels)
	case recQueue:
		r.stats.Relevant++
		if rc.op == 0 {
			return
		}
		switch op := &pc.ops[rc.op-1]; op.kind {
		case opRemoved:
			r.qids.delete(op.qid)
		case opStatus:
			r.status(&pc.hdrs[rc.hdr], op, pc.dels)
		}
	}
}

func (r *Reader) proc(l *Line) *proc {
	if p := r.lastProc; p != nil && l.PID == r.lastKey.pid && l.Host == r.lastKey.host {
		return p // a process logs in bursts: most lines are its previous line's
	}
	k := procKey{l.Host, l.PID}
	p, ok := r.procs.get(k)
	if !ok {
		if p, ok = r.procs.take(); ok {
			*p = proc{}
		} else {
			p = &proc{}
		}
		rotated, n, lost := r.procs.put(k, p, func(p *proc) bool { return len(p.pending) > 0 || len(p.warnings) > 0 })
		if rotated {
			// r.lastProc is the old generation's now (and proc's fast path would not make
			// it recent again)
			r.lastProc = nil
			r.stats.EvictedProcesses += int64(lost)
			r.stats.RetiredProcesses += int64(n - lost)
			if lost > 0 {
				r.diag("%d smtp/lmtp processes kept at most: forgot the %d least recently seen, %d of them with connection lines no queue ID had claimed", r.opt.MaxProcesses, n, lost)
			}
		}
	}
	r.lastProc, r.lastKey = p, k
	return p
}

func (r *Reader) queue(qid string) *queue {
	q, ok := r.qids.get(qid)
	if !ok {
		if q, ok = r.qids.take(); ok {
			*q = queue{}
		} else {
			q = &queue{}
		}
		if rotated, n, lost := r.qids.put(qid, q, func(q *queue) bool { return !q.statusSeen && len(q.attempts) > 0 }); rotated {
			r.stats.EvictedQueueIDs += int64(lost)
			r.stats.RetiredQueueIDs += int64(n - lost)
			if lost > 0 {
				r.diag("%d queue IDs kept at most: forgot the %d least recently seen, %d of them with connection lines and no status line yet", r.opt.MaxOpenQueueIDs, n, lost)
			}
		}
	}
	return q
}

// recentMap is a map of at most max entries in two generations (see
// Options.MaxProcesses): new entries, and entries looked up, are in young; when young
// holds max/2 entries, old is forgotten and young becomes old. Forgetting a generation
// costs a pass over it, not a deletion per entry. The values forgotten or deleted are
// kept (up to max/2 of them) for take, so that new entries reuse them.
type recentMap[K comparable, V any] struct {
	young, old map[K]V
	half, max  int
	spare      []V
}

// take returns a value forgotten or deleted earlier, to be reset and reused.
func (m *recentMap[K, V]) take() (V, bool) {
	var v V
	n := len(m.spare)
	if n == 0 {
		return v, false
	}
	v = m.spare[n-1]
	m.spare[n-1] = *new(V)
	m.spare = m.spare[:n-1]
	return v, true
}

// forget counts the entries of the old generation (and those lost says were lost),
// keeps their values for take, and empties it.
func (m *recentMap[K, V]) forget(lost func(V) bool) (n, nlost int) {
	for _, e := range m.old {
		if lost(e) {
			nlost++
		}
		if len(m.spare) < m.half {
			m.spare = append(m.spare, e)
		}
	}
	n = len(m.old)
	clear(m.old)
	return n, nlost
}

func newRecentMap[K comparable, V any](limit int) recentMap[K, V] {
	return recentMap[K, V]{young: map[K]V{}, old: map[K]V{}, half: max(1, limit/2), max: limit}
}

func (m *recentMap[K, V]) len() int { return len(m.young) + len(m.old) }

// get looks k up; an entry of the old generation moves to the young one.
func (m *recentMap[K, V]) get(k K) (V, bool) {
	if v, ok := m.young[k]; ok {
		return v, true
	}
	v, ok := m.old[k]
	if ok {
		delete(m.old, k)
		m.young[k] = v
	}
	return v, ok
}

// peek looks k up without making it recent.
func (m *recentMap[K, V]) peek(k K) (V, bool) {
	if v, ok := m.young[k]; ok {
		return v, true
	}
	v, ok := m.old[k]
	return v, ok
}

// put adds k (not in m). When young is full, old is forgotten first and young becomes
// old: put then reports rotated, and how many entries were forgotten and how many of
// them lost says were lost.
func (m *recentMap[K, V]) put(k K, v V, lost func(V) bool) (rotated bool, n, nlost int) {
	if len(m.young) >= m.half || m.len() >= m.max {
		rotated = true
		n, nlost = m.forget(lost)
		m.old, m.young = m.young, m.old
		if len(m.old) >= m.max { // a cap of 1: nothing stays
			n2, l2 := m.forget(lost)
			n, nlost = n+n2, nlost+l2
		}
	}
	m.young[k] = v
	return rotated, n, nlost
}

// delete removes k; its value is kept for take (the caller no longer uses it).
func (m *recentMap[K, V]) delete(k K) {
	v, ok := m.young[k]
	if ok {
		delete(m.young, k)
	} else if v, ok = m.old[k]; ok {
		delete(m.old, k)
	}
	if ok && len(m.spare) < m.half {
		m.spare = append(m.spare, v)
	}
}

// attach moves the process's pending attempts and warnings to the queue ID's pass.
func (r *Reader) attach(p *proc, qid string) *queue {
	if p.lastQID != "" && p.lastQID != qid {
		if old, ok := r.qids.peek(p.lastQID); ok && old.statusSeen {
			r.qids.delete(p.lastQID) // that pass is over
		}
	}
	p.lastQID = qid
	q := r.queue(qid)
	if len(p.pending) > 0 || len(p.warnings) > 0 {
		if q.statusSeen {
			q.attempts, q.warnings, q.statusSeen = nil, nil, false
		}
		if len(q.attempts) == 0 && len(p.pending) <= maxAttempts {
			// the pass's first attempts: the queue ID takes the process's array (the
			// process starts a new one), no copy
			q.attempts, p.pending = p.pending, nil
		} else {
			if n := min(len(p.pending), maxAttempts-len(q.attempts)); n > 0 {
				q.attempts = append(slices.Grow(q.attempts, n), p.pending[:n]...)
			}
			clear(p.pending)
			p.pending = p.pending[:0]
		}
		q.warnings = appendCapped(q.warnings, p.warnings...)
		p.warnings = nil
	}
	return q
}

func appendCapped(dst []string, s ...string) []string {
	for _, x := range s {
		if len(dst) >= maxPerList {
			break
		}
		dst = append(dst, x)
	}
	return dst
}

// session returns the open attempt of the process for server, creating one when the last
// one is for another server or already ended (summary, reason or handshake error logged).
func (r *Reader) session(l *Line, p *proc, server string, fresh bool) *Attempt {
	if n := len(p.pending); n > 0 {
		a := &p.pending[n-1]
		if sameServer(a.Server, server) && (!fresh || a.Lines == 0) && a.TLS == nil && a.Reason == "" && a.HandshakeError == "" {
			if len(server) > len(a.Server) {
				setServer(a, server)
			}
			a.Lines++
			return a
		}
	}
	if len(p.pending) >= maxPending {
		copy(p.pending, p.pending[1:])
		p.pending[len(p.pending)-1] = Attempt{}
		p.pending = p.pending[:len(p.pending)-1]
		r.diagKind("pending "+l.Program, "more than %d connections of %s[%d] without a queue ID: dropped the oldest", maxPending, l.Program, l.PID)
	}
	p.pending = append(p.pending, Attempt{PID: l.PID, Time: l.Time, Logged: l.Logged, Lines: 1})
	a := &p.pending[len(p.pending)-1]
	setServer(a, server)
	return a
}

// lastOpen returns the newest pending attempt (nil when none).
func lastOpen(p *proc) *Attempt {
	if n := len(p.pending); n > 0 {
		return &p.pending[n-1]
	}
	return nil
}

// sameServer compares "host[addr]:port" with "host[addr]" leniently (the port may be
// missing from one of them).
func sameServer(a, b string) bool {
	if a == b {
		return true
	}
	ia, ib := strings.LastIndexByte(a, ']'), strings.LastIndexByte(b, ']')
	if ia < 0 || ib < 0 {
		return false
	}
	return a[:ia] == b[:ib] && (ia == len(a)-1 || ib == len(b)-1)
}

func setServer(a *Attempt, s string) {
	a.Server = s
	a.Host, a.Addr, a.Port = splitServer(s)
}

// splitServer splits "host[addr]:port".
func splitServer(s string) (host, addr string, port int) {
	i := strings.IndexByte(s, '[')
	j := strings.LastIndexByte(s, ']')
	if i < 0 || j < i {
		return s, "", 0
	}
	host, addr = s[:i], s[i+1:j]
	if j+1 < len(s) && s[j+1] == ':' {
		for _, c := range s[j+2:] {
			if c < '0' || c > '9' || port > 65535 {
				return host, addr, 0
			}
			port = port*10 + int(c-'0')
		}
	}
	return host, addr, port
}

// splitNamaddr reads "host[addr]" or "host[addr]:port" at the start of s, followed by sep
// (": " or " "), and returns it and the rest.
func splitNamaddr(s, sep string) (server, rest string, ok bool) {
	i := strings.IndexByte(s, '[')
	if i <= 0 || strings.IndexByte(s[:i], ' ') >= 0 {
		return "", "", false
	}
	j := strings.IndexByte(s[i:], ']')
	if j < 0 {
		return "", "", false
	}
	j += i + 1
	if j < len(s) && s[j] == ':' && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' {
		j++
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
	}
	if !strings.HasPrefix(s[j:], sep) {
		return "", "", false
	}
	return s[:j], s[j+len(sep):], true
}

// splitQID reads "<queue id>: " at the start of text. Short IDs are upper-case hex, long
// IDs (enable_long_queue_ids) letters and digits; both have at least 5 characters.
func splitQID(text []byte) (qid, rest []byte, ok bool) {
	i := 0
	for i < len(text) && i <= 20 {
		c := text[i]
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			i++
			continue
		}
		break
	}
	if i < 5 || i > 20 || i+1 >= len(text) || text[i] != ':' || text[i+1] != ' ' {
		return nil, nil, false
	}
	return text[:i], text[i+2:], true
}
