package tables

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A read-only reader of the LMDB data file that postmap(1) writes for lmdb: tables (one
// file, MDB_NOSUBDIR; the unnamed main database; no duplicate keys). It picks the newer of
// the two meta pages and searches the main database's B+tree with ReadAt, one page per level.
// LMDB files are in the writer's byte order with 64-bit page numbers: this reads the files
// of a little-endian 64-bit machine (amd64, arm64), which Debian's postfix-lmdb writes there.

const (
	lmdbMagic    = 0xBEEFC0DE
	lmdbVersion  = 1
	lmdbHdr      = 16 // MDB_page header: pgno 8, pad 2, flags 2, lower 2, upper 2
	lmdbNodeHdr  = 8  // MDB_node: lo 2, hi 2, flags 2, ksize 2
	lmdbBranch   = 0x01
	lmdbLeaf     = 0x02
	lmdbBigData  = 0x01
	lmdbSubData  = 0x02
	lmdbDupData  = 0x04
	lmdbInvalidP = ^uint64(0)
)

type lmdbFile struct {
	r        io.ReaderAt
	size     int64
	pageSize int64
	root     uint64
	lastPg   uint64
	depth    int
}

// The errors mdb_env_open() gives Postfix for a file that is not an LMDB data file
// ("open database X.lmdb: <mdb_strerror>").
var (
	errLMDBInvalid error = strerror("MDB_INVALID: File is not an LMDB file")
	errLMDBVersion error = strerror("MDB_VERSION_MISMATCH: Database environment version mismatch")
	errLMDBEmpty   error = strerror("Bad file descriptor")
)

func openLMDB(r io.ReaderAt, size int64) (*lmdbFile, error) {
	if size == 0 {
		return nil, errLMDBEmpty
	}
	readMeta := func(off int64) (psize uint32, root, last, txn uint64, depth int, err error) {
		var m [160]byte
		if n, e := r.ReadAt(m[:], off); n < len(m) {
			if e == nil || e == io.EOF {
				e = errLMDBInvalid
			}
			return 0, 0, 0, 0, 0, e
		}
		le := binary.LittleEndian
		if le.Uint16(m[10:])&0x08 == 0 || le.Uint32(m[16:]) != lmdbMagic { // P_META
			return 0, 0, 0, 0, 0, errLMDBInvalid
		}
		if le.Uint32(m[20:]) != lmdbVersion {
			return 0, 0, 0, 0, 0, errLMDBVersion
		}
		main := m[40+48:]
		return le.Uint32(m[40:]), le.Uint64(main[40:]), le.Uint64(m[136:]), le.Uint64(m[144:]), int(le.Uint16(main[6:])), nil
	}
	psize, root, last, txn, depth, err := readMeta(0)
	if err != nil {
		return nil, err
	}
	if psize < 512 || psize > 1<<16 || psize&(psize-1) != 0 {
		return nil, errLMDBInvalid
	}
	f := &lmdbFile{r: r, size: size, pageSize: int64(psize), root: root, lastPg: last, depth: depth}
	if _, root1, last1, txn1, depth1, err := readMeta(int64(psize)); err == nil && txn1 > txn {
		f.root, f.lastPg, f.depth = root1, last1, depth1
	}
	return f, nil
}

func (f *lmdbFile) page(pgno uint64) ([]byte, error) {
	if pgno > f.lastPg || int64(pgno+1)*f.pageSize > f.size {
		return nil, fmt.Errorf("page %d out of range", pgno)
	}
	return readPage(f.r, int64(pgno)*f.pageSize, int(f.pageSize))
}

// node returns node i of a page: its 8-byte header fields and key.
func lmdbNode(pg []byte, i int) (lo, hi, flags uint16, key []byte, body []byte, err error) {
	le := binary.LittleEndian
	off := int(le.Uint16(pg[lmdbHdr+2*i:]))
	if off+lmdbNodeHdr > len(pg) {
		return 0, 0, 0, nil, nil, errors.New("corrupt LMDB node")
	}
	n := pg[off:]
	ks := int(le.Uint16(n[6:]))
	if lmdbNodeHdr+ks > len(n) {
		return 0, 0, 0, nil, nil, errors.New("corrupt LMDB node key")
	}
	return le.Uint16(n[0:]), le.Uint16(n[2:]), le.Uint16(n[4:]), n[lmdbNodeHdr : lmdbNodeHdr+ks], n[lmdbNodeHdr+ks:], nil
}

func (f *lmdbFile) get(key []byte) ([]byte, bool, error) {
	if f.root == lmdbInvalidP {
		return nil, false, nil
	}
	pgno := f.root
	le := binary.LittleEndian
	for depth := 0; depth < 64; depth++ {
		buf, err := f.page(pgno)
		if err != nil {
			return nil, false, err
		}
		flags := le.Uint16(buf[10:])
		lower := int(le.Uint16(buf[12:]))
		if lower < lmdbHdr || lower > len(buf) {
			return nil, false, errors.New("corrupt LMDB page")
		}
		n := (lower - lmdbHdr) / 2
		switch {
		case flags&lmdbBranch != 0:
			i, err := childIndex(n, func(i int) ([]byte, error) {
				_, _, _, k, _, err := lmdbNode(buf, i)
				return k, err
			}, key)
			if err != nil {
				return nil, false, err
			}
			l, h, fl, _, _, err := lmdbNode(buf, i)
			if err != nil {
				return nil, false, err
			}
			pgno = uint64(l) | uint64(h)<<16 | uint64(fl)<<32
		case flags&lmdbLeaf != 0:
			lo, hi := 0, n
			for lo < hi {
				m := (lo + hi) / 2
				l, h, fl, k, body, err := lmdbNode(buf, m)
				if err != nil {
					return nil, false, err
				}
				c := bytes.Compare(k, key)
				if c < 0 {
					lo = m + 1
					continue
				}
				if c > 0 {
					hi = m
					continue
				}
				d, err := f.nodeData(l, h, fl, body)
				return d, err == nil, err
			}
			return nil, false, nil
		default:
			return nil, false, fmt.Errorf("LMDB page %d is neither branch nor leaf", pgno)
		}
	}
	return nil, false, errors.New("corrupt LMDB tree: too deep")
}

// nodeData returns a leaf node's data: on the page, or on its overflow pages (F_BIGDATA).
func (f *lmdbFile) nodeData(l, h, fl uint16, body []byte) ([]byte, error) {
	size := int(l) | int(h)<<16
	if fl&(lmdbSubData|lmdbDupData) != 0 {
		return nil, errors.New("LMDB sub-databases and duplicate keys are not read")
	}
	if fl&lmdbBigData == 0 {
		if size > len(body) {
			return nil, errors.New("corrupt LMDB node data")
		}
		return body[:size], nil
	}
	if len(body) < 8 {
		return nil, errors.New("corrupt LMDB overflow node")
	}
	op := binary.LittleEndian.Uint64(body)
	start := int64(op)*f.pageSize + lmdbHdr
	if op > f.lastPg || start+int64(size) > f.size {
		return nil, errors.New("corrupt LMDB overflow page")
	}
	return readPage(f.r, start, size)
}
