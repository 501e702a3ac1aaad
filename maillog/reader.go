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
	// MaxProcesses caps the smtp(8)/lmtp(8) processes it keeps (default 1000). Beyond a
	// cap the least recently seen half is forgotten. Forgetting a queue ID whose pass has
	// ended, or a process with no unclaimed lines, loses nothing (Stats.Retired...);
	// forgetting one with lines still waiting for their status line is counted in
	// Stats.Evicted... and reported with a diagnostic.
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
	procs map[procKey]*proc
	// lastProc is procs[lastKey], the process of the last smtp/lmtp line (nil when unknown)
	lastProc *proc
	lastKey  procKey
	qids     map[string]*queue
	ready    []Delivery // ready[head:] are not yet returned
	head     int
	diags    []Diagnostic
	diagIdx  map[string]int // kind -> index in diags
	stats    Stats
	err      error // returned once ready is empty
	version  string
	// values of forgotten processes and queue IDs, for reuse; seenBuf evictOldestHalf's
	spareProcs  spare[proc]
	spareQueues spare[queue]
	seenBuf     []int64
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
	seen     int64
}

type queue struct {
	attempts   []Attempt
	warnings   []string
	statusSeen bool
	seen       int64
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
		procs:   map[procKey]*proc{},
		qids:    map[string]*queue{},
		diagIdx: map[string]int{},
	}
	rd.spareProcs.max, rd.spareQueues.max = opt.MaxProcesses/2+1, opt.MaxOpenQueueIDs/2+1
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
func (r *Reader) Open() (queueIDs, processes int) { return len(r.qids), len(r.procs) }

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
			r.dropQID(op.qid)
		case opStatus:
			r.status(&pc.hdrs[rc.hdr], op, pc.dels)
		}
	}
}

func (r *Reader) proc(l *Line) *proc {
	if p := r.lastProc; p != nil && l.PID == r.lastKey.pid && l.Host == r.lastKey.host {
		p.seen = r.seq // a process logs in bursts: most lines are its previous line's
		return p
	}
	k := procKey{l.Host, l.PID}
	p := r.procs[k]
	if p == nil {
		if len(r.procs) >= r.opt.MaxProcesses {
			r.evictProcs()
		}
		p = r.spareProcs.get()
		r.procs[k] = p
	}
	p.seen = r.seq
	r.lastProc, r.lastKey = p, k
	return p
}

func (r *Reader) evictProcs() {
	r.lastProc = nil
	n, lost := evictOldestHalf(r.procs, &r.seenBuf, func(p *proc) int64 { return p.seen },
		func(p *proc) bool { return len(p.pending) > 0 || len(p.warnings) > 0 }, r.spareProcs.put)
	r.stats.EvictedProcesses += int64(lost)
	r.stats.RetiredProcesses += int64(n - lost)
	if lost > 0 {
		r.diag("more than %d smtp/lmtp processes kept: forgot the %d least recently seen, %d of them with connection lines no queue ID had claimed", r.opt.MaxProcesses, n, lost)
	}
}

func (r *Reader) evictQIDs() {
	n, lost := evictOldestHalf(r.qids, &r.seenBuf, func(q *queue) int64 { return q.seen },
		func(q *queue) bool { return !q.statusSeen && len(q.attempts) > 0 }, r.spareQueues.put)
	r.stats.EvictedQueueIDs += int64(lost)
	r.stats.RetiredQueueIDs += int64(n - lost)
	if lost > 0 {
		r.diag("more than %d queue IDs kept: forgot the %d least recently seen, %d of them with connection lines and no status line yet", r.opt.MaxOpenQueueIDs, n, lost)
	}
}

// evictOldestHalf deletes the entries of m whose "seen" value is at or below the median
// (found in buf, which it reuses), hands their values to free, and returns how many it
// deleted and how many of those were lost (pending work).
func evictOldestHalf[K comparable, V any](m map[K]V, buf *[]int64, seen func(V) int64, lost func(V) bool, free func(V)) (n, nlost int) {
	v := (*buf)[:0]
	for _, e := range m {
		v = append(v, seen(e))
	}
	*buf = v
	if len(v) == 0 {
		return 0, 0
	}
	cut := nth(v, len(v)/2)
	for k, e := range m {
		if seen(e) <= cut {
			if lost(e) {
				nlost++
			}
			delete(m, k)
			free(e)
			n++
		}
	}
	return n, nlost
}

// nth returns the value that would be v[k] if v were sorted (v is reordered): Hoare's
// selection, in linear time on average instead of a sort's n log n.
func nth(v []int64, k int) int64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2 // the median of three as the pivot
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		p := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k] // j < k < i: equal to the pivot
		}
	}
	return v[k]
}

func (r *Reader) queue(qid string) *queue {
	q := r.qids[qid]
	if q == nil {
		if len(r.qids) >= r.opt.MaxOpenQueueIDs {
			r.evictQIDs()
		}
		q = r.spareQueues.get()
		r.qids[qid] = q
	}
	q.seen = r.seq
	return q
}

// dropQID forgets the queue ID's state (its pass is over); the caller no longer uses it.
func (r *Reader) dropQID(qid string) {
	if q := r.qids[qid]; q != nil {
		delete(r.qids, qid)
		r.spareQueues.put(q)
	}
}

// spare keeps values of forgotten entries (at most max) for reuse.
type spare[V any] struct {
	l   []*V
	max int
}

// get returns a zero V, reused when there is one.
func (s *spare[V]) get() *V {
	n := len(s.l)
	if n == 0 {
		return new(V)
	}
	v := s.l[n-1]
	s.l[n-1] = nil
	s.l = s.l[:n-1]
	*v = *new(V)
	return v
}

// put keeps v, which nothing uses any more, for get.
func (s *spare[V]) put(v *V) {
	if len(s.l) < s.max {
		s.l = append(s.l, v)
	}
}

// attach moves the process's pending attempts and warnings to the queue ID's pass.
func (r *Reader) attach(p *proc, qid string) *queue {
	if p.lastQID != "" && p.lastQID != qid {
		if old := r.qids[p.lastQID]; old != nil && old.statusSeen {
			r.dropQID(p.lastQID) // that pass is over
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
