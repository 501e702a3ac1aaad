package maillog

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// The Reader reads its input in blocks of whole lines (about blockSize bytes), cuts each
// block into pieces (about pieceSize bytes, ending at a line end) and parses the pieces
// on Options.Workers goroutines. With more than one worker a goroutine of the Reader's
// reads and parses ahead (at most aheadBlocks blocks) while Next applies the blocks to the
// state machine in the caller's goroutine. A line is never split: the start of a line a
// read cut off is carried to the next block, and a line longer than
// Options.MaxLineLength is skipped as it is read, so a block holds at most blockSize +
// MaxLineLength bytes.
const (
	blockSize   = 256 << 10
	pieceSize   = 32 << 10
	aheadBlocks = 2
	maxSpins    = 200
)

// source reads and parses blocks. Its state belongs to one goroutine at a time: the
// caller's (one worker) or the read-ahead goroutine's.
type source struct {
	src      io.Reader
	maxLine  int
	carry    []byte // the start of a line the last read cut off
	skipping bool   // in a line longer than maxLine: its rest is skipped
	skipped  int64  // bytes of that line so far
	readErr  error  // the input's error (io.EOF at its end), after the lines before it
	// parsers are the workers' line parsers: parsers[0] the reading goroutine's, and with
	// several workers the last one Next's (it parses pieces of the block being parsed
	// while it waits for that block), the others the helper goroutines'.
	parsers []*lineParser
	free    chan *block // applied blocks, for reuse
	// cur is the block the read-ahead goroutine is parsing (nil between blocks). Next
	// takes pieces of it while it waits. The block cannot be reused meanwhile: only Next
	// recycles blocks, after applying them.
	cur atomic.Pointer[block]
}

// ahead is the read-ahead goroutine's side: parsed blocks in order, then nil.
type ahead struct {
	blocks chan *block
	done   chan struct{} // closed to stop the goroutine
	once   sync.Once
	err    error // the source's readErr, valid once blocks sent nil
}

func (a *ahead) stop() { a.once.Do(func() { close(a.done) }) }

// run reads and parses blocks until the input ends or a is stopped.
func (a *ahead) run(s *source) {
	for {
		b := s.next()
		if b == nil {
			a.err = s.readErr
		}
		select {
		case a.blocks <- b:
		case <-a.done:
			return
		}
		if b == nil {
			return
		}
	}
}

// next reads and parses the next block (nil at the input's end).
func (s *source) next() *block {
	b := s.readBlock()
	if b != nil {
		s.parseBlock(b)
	}
	return b
}

// block is a run of whole lines and their parsed recs.
type block struct {
	buf []byte
	// pre is the end of a long line that began in an earlier block; post a long line
	// that the input's end cut off. They come before and after the lines of buf.
	pre, post []rec
	// pieces are the end offsets in buf of the pieces; parsed[i] the lines of piece i.
	pieces []int
	parsed []piece
	next   atomic.Int64   // the next piece to parse
	left   sync.WaitGroup // the pieces not yet parsed
}

// piece is the parsed lines of a piece of a block: a rec per line, and what the recs
// point to.
type piece struct {
	recs []rec
	hdrs []Line     // rec.hdr: the headers, one per run of lines with the same header
	ops  []smtpOp   // rec.op: the ops of the lines that do something
	dels []Delivery // smtpOp.di: the deliveries of the status lines
}

// reset empties p for reuse, dropping what its ops and deliveries point to.
func (p *piece) reset() {
	clear(p.ops)
	clear(p.dels)
	p.recs, p.hdrs, p.ops, p.dels = p.recs[:0], p.hdrs[:0], p.ops[:0], p.dels[:0]
}

// readBlock reads the next block; nil when the input has nothing left (s.readErr says why).
func (r *source) readBlock() *block {
	var b *block
	select {
	case b = <-r.free:
	default:
		b = &block{buf: make([]byte, 0, blockSize+r.maxLine)}
	}
	b.buf = append(b.buf[:0], r.carry...)
	b.pre, b.post, b.pieces = b.pre[:0], b.post[:0], b.pieces[:0]
	r.carry = r.carry[:0]
	empty := 0
	for r.readErr == nil {
		start := len(b.buf)
		want := blockSize - start
		if want < 4096 {
			want = cap(b.buf) - start
		}
		n, err := r.src.Read(b.buf[start : start+want])
		b.buf = b.buf[:start+n]
		if err != nil {
			r.readErr = err
		} else if n == 0 {
			if empty++; empty >= 100 {
				r.readErr = io.ErrNoProgress
			}
			continue
		}
		empty = 0
		if r.skipping {
			// b.buf held nothing before this read (a block ends where skipping starts)
			i := bytes.IndexByte(b.buf, '\n')
			if i < 0 {
				r.skipped += int64(len(b.buf))
				b.buf = b.buf[:0]
				continue
			}
			r.skipping = false
			b.pre = append(b.pre, rec{kind: recLong, n: r.skipped + int64(i) + 1})
			b.buf = b.buf[:copy(b.buf, b.buf[i+1:])]
		}
		last := bytes.LastIndexByte(b.buf, '\n')
		if last < 0 {
			if len(b.buf) >= r.maxLine {
				r.skipping, r.skipped = true, int64(len(b.buf))
				b.buf = b.buf[:0]
			}
			continue // no whole line yet
		}
		tail := b.buf[last+1:]
		if len(tail) >= r.maxLine {
			b.buf = b.buf[:last+1]
			r.skipping, r.skipped = true, int64(len(tail))
			break // the long line comes after this block's lines
		}
		if n < want || len(b.buf) >= blockSize/2 {
			b.buf = b.buf[:last+1]
			r.carry = append(r.carry, tail...)
			break // a short read (a pipe with nothing more yet) or enough for a block
		}
	}
	if r.readErr != nil {
		// the input's end: what it cut off is a last line without a line end
		if r.skipping {
			b.post = append(b.post, rec{kind: recLong, n: r.skipped})
			r.skipping = false
		} else if len(r.carry) > 0 {
			b.buf = append(b.buf, r.carry...)
			r.carry = r.carry[:0]
		}
	}
	if len(b.buf) == 0 && len(b.pre) == 0 && len(b.post) == 0 {
		r.recycle(b)
		return nil
	}
	for off := 0; off < len(b.buf); {
		end := min(off+pieceSize, len(b.buf))
		if i := bytes.IndexByte(b.buf[end-1:], '\n'); i >= 0 {
			end += i
		} else {
			end = len(b.buf)
		}
		b.pieces = append(b.pieces, end)
		off = end
	}
	for len(b.parsed) < len(b.pieces) {
		b.parsed = append(b.parsed, piece{})
	}
	b.next.Store(0)
	b.left.Add(len(b.pieces))
	return b
}

// recycle keeps b for reuse (if there is room).
func (r *source) recycle(b *block) {
	select {
	case r.free <- b:
	default:
	}
}

// parsePieces parses the pieces of b not yet taken by another goroutine.
func (r *source) parsePieces(b *block, lp *lineParser) {
	for r.parseOne(b, lp) {
	}
}

// parseOne parses the next piece of b not yet taken, if there is one.
func (r *source) parseOne(b *block, lp *lineParser) bool {
	i := int(b.next.Add(1) - 1)
	if i >= len(b.pieces) {
		return false
	}
	defer b.left.Done()
	start := 0
	if i > 0 {
		start = b.pieces[i-1]
	}
	lp.startPiece(&b.parsed[i])
	r.parsePiece(lp, b.buf[start:b.pieces[i]])
	lp.endPiece()
	return true
}

// parsePiece parses the lines of p into lp.pc.
func (r *source) parsePiece(lp *lineParser, p []byte) {
	pc := lp.pc
	for len(p) > 0 {
		line := p
		var rc rec
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
			rc.n = int64(len(line)) + 1
		} else {
			p = nil // the input's last line, without a line end
			rc.n = int64(len(line))
		}
		if len(line) >= r.maxLine {
			rc.kind = recLong
		} else {
			for len(line) > 0 && (line[len(line)-1] == '\r' || line[len(line)-1] == '\n') {
				line = line[:len(line)-1]
			}
			if len(line) == 0 {
				rc.kind = recEmpty
			} else {
				lp.parse(line, &rc)
			}
		}
		pc.recs = append(pc.recs, rc)
	}
}

// step applies the next parsed block: read and parsed here with one worker, received
// from the read-ahead goroutine otherwise.
func (r *Reader) step(ctx context.Context) {
	var b *block
	if len(r.src.parsers) == 1 {
		if b = r.src.next(); b == nil {
			r.err = r.src.readErr
			return
		}
	} else {
		if r.ahead == nil {
			r.ahead = &ahead{blocks: make(chan *block, aheadBlocks), done: make(chan struct{})}
			go r.ahead.run(r.src)
			// A Reader dropped before the input's end stops its goroutine too.
			runtime.AddCleanup(r, (*ahead).stop, r.ahead)
		}
		lp := r.src.parsers[len(r.src.parsers)-1]
		spins := 0
	wait:
		for {
			select {
			case b = <-r.ahead.blocks:
				break wait
			case <-ctx.Done():
				return // Next returns ctx.Err()
			default:
			}
			// Nothing parsed yet: help with the block being parsed, a piece at a time.
			if cb := r.src.cur.Load(); cb != nil && r.src.parseOne(cb, lp) {
				spins = 0
				continue
			}
			if spins < maxSpins {
				// Nothing to take yet: yield for a while before sleeping (a sleeping Next
				// looks for pieces again only once a whole block has come, and waking it
				// takes longer than a piece).
				spins++
				runtime.Gosched()
				continue
			}
			select {
			case b = <-r.ahead.blocks:
				break wait
			case <-ctx.Done():
				return
			}
		}
		if b == nil {
			r.err = r.ahead.err
			return
		}
	}
	for i := range b.pre {
		r.apply(&b.pre[i], nil)
	}
	for k := range b.parsed[:len(b.pieces)] {
		pc := &b.parsed[k]
		for i := range pc.recs {
			r.apply(&pc.recs[i], pc)
		}
	}
	for i := range b.post {
		r.apply(&b.post[i], nil)
	}
	r.src.recycle(b)
}

// Close stops the goroutine that reads ahead (with Options.Workers above 1); a Read of
// the input already under way ends on its own. Reading to the input's end, or dropping
// the Reader, stops it too. Next returns io.ErrClosedPipe after Close.
func (r *Reader) Close() error {
	if r.ahead != nil {
		r.ahead.stop()
	}
	if r.err == nil {
		r.err = io.ErrClosedPipe
	}
	clear(r.ready)
	r.ready, r.head = r.ready[:0], 0
	return nil
}

// parseBlock parses all of b on every worker.
func (r *source) parseBlock(b *block) {
	if len(r.parsers) > 1 {
		r.cur.Store(b)
	}
	wg := r.startHelpers(b)
	r.parsePieces(b, r.parsers[0])
	r.cur.Store(nil)
	wg.Wait()
	b.left.Wait() // the pieces Next took
}

// startHelpers starts the helper workers on b's pieces.
func (r *source) startHelpers(b *block) *sync.WaitGroup {
	wg := &sync.WaitGroup{}
	for _, lp := range r.parsers[1:max(1, min(len(r.parsers)-1, len(b.pieces)))] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.parsePieces(b, lp)
		}()
	}
	return wg
}
