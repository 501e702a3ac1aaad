package tables

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A read-only reader of the Berkeley DB on-disk formats that postmap(1) writes for hash: and
// btree: tables (Berkeley DB 5.3 as Debian links it: hash version 9, btree version 9). It
// reads the pages it needs with ReadAt, so opening costs one page and a lookup a few, whatever
// the size of the file. Both byte orders are read (the meta page's magic number tells which).
// Encrypted or checksummed databases, which postmap never writes, are not read.

// Berkeley DB constants (dbinc/db_page.h, dbinc/hash.h, dbinc/btree.h).
const (
	bdbHashMagic  = 0x061561
	bdbBtreeMagic = 0x053162

	bdbPageHeader = 26 // PAGE: lsn 8, pgno 4, prev 4, next 4, entries 2, hf_offset 2, level 1, type 1

	pIBTREE    = 3
	pLBTREE    = 5
	pOVERFLOW  = 7
	pHASHMETA  = 8
	pBTREEMETA = 9
	pHASH      = 13
	pHASHU     = 2 // P_HASH_UNSORTED (older hash pages)

	hKEYDATA = 1
	hOFFPAGE = 3

	bKEYDATA  = 1
	bOVERFLOW = 3
)

// errBDBInvalid is Berkeley DB's EINVAL for a file that is not a database of the requested
// type ("open database X.db: Invalid argument").
var errBDBInvalid error = strerror("Invalid argument")

// errUnsupported marks a compiled file this package cannot read (a format variant postmap
// does not write here); the table is then read from its source file.
type errUnsupported struct{ why string }

func (e *errUnsupported) Error() string { return e.why }

// bdbFile is an open hash or btree database.
type bdbFile struct {
	r        io.ReaderAt
	size     int64
	bo       binary.ByteOrder
	pageSize uint32
	lastPgno uint32
	hash     bool
	// hash
	maxBucket, highMask, lowMask uint32
	spares                       [32]uint32
	// btree
	root uint32
}

// openBDB reads the meta page of a Berkeley DB file and checks that it is a database of the
// type Postfix asks for (DB_HASH for hash:, DB_BTREE for btree:).
func openBDB(r io.ReaderAt, size int64, wantHash bool) (*bdbFile, error) {
	var meta [512]byte
	if size < 512 {
		return nil, errBDBInvalid
	}
	if _, err := r.ReadAt(meta[:], 0); err != nil {
		return nil, err
	}
	var bo binary.ByteOrder = binary.LittleEndian
	magic := bo.Uint32(meta[12:])
	if magic != bdbHashMagic && magic != bdbBtreeMagic {
		bo = binary.BigEndian
		magic = bo.Uint32(meta[12:])
	}
	switch {
	case magic == bdbHashMagic && wantHash, magic == bdbBtreeMagic && !wantHash:
	default:
		return nil, errBDBInvalid // another type, another program's file, or garbage
	}
	f := &bdbFile{r: r, size: size, bo: bo, hash: wantHash}
	version := bo.Uint32(meta[16:])
	f.pageSize = bo.Uint32(meta[20:])
	encrypt, typ, metaflags := meta[24], meta[25], meta[26]
	f.lastPgno = bo.Uint32(meta[32:])
	if f.pageSize < 512 || f.pageSize > 65536 || f.pageSize&(f.pageSize-1) != 0 {
		return nil, errBDBInvalid
	}
	if encrypt != 0 || metaflags&0x01 != 0 { // DBMETA_CHKSUM
		return nil, &errUnsupported{"an encrypted or checksummed Berkeley DB file"}
	}
	if wantHash {
		if typ != pHASHMETA || version < 8 || version > 10 {
			return nil, &errUnsupported{fmt.Sprintf("Berkeley DB hash version %d", version)}
		}
		f.maxBucket = bo.Uint32(meta[72:])
		f.highMask = bo.Uint32(meta[76:])
		f.lowMask = bo.Uint32(meta[80:])
		for i := range f.spares {
			f.spares[i] = bo.Uint32(meta[96+4*i:])
		}
		// h_charkey is the hash function's value of CHARKEY (with its null byte): a database built with
		// another hash function than the default one cannot be searched here.
		if charkey := bo.Uint32(meta[92:]); charkey != bdbHash([]byte("%$sniglet^&\x00")) {
			return nil, &errUnsupported{"a Berkeley DB hash file built with a non-default hash function"}
		}
	} else {
		if typ != pBTREEMETA || version < 8 || version > 10 {
			return nil, &errUnsupported{fmt.Sprintf("Berkeley DB btree version %d", version)}
		}
		f.root = bo.Uint32(meta[88:])
		if f.root == 0 {
			f.root = 1
		}
	}
	return f, nil
}

// bdbHash is Berkeley DB's default hash function, __ham_func5 (FNV-1 from a zero basis).
func bdbHash(k []byte) uint32 {
	var h uint32
	for _, c := range k {
		h *= 16777619
		h ^= uint32(c)
	}
	return h
}

// page returns page pgno: a slice of the file when it is in memory, else a copy read with
// ReadAt.
func (f *bdbFile) page(pgno uint32) ([]byte, error) {
	if pgno == 0 || pgno > f.lastPgno {
		return nil, fmt.Errorf("page %d out of range (last page %d)", pgno, f.lastPgno)
	}
	return readPage(f.r, int64(pgno)*int64(f.pageSize), int(f.pageSize))
}

// entries returns the page's item offsets (inp[]).
func (f *bdbFile) entries(pg []byte) ([]uint16, error) {
	n := int(f.bo.Uint16(pg[20:]))
	if bdbPageHeader+2*n > len(pg) {
		return nil, errors.New("corrupt page: too many entries")
	}
	inp := make([]uint16, n)
	for i := range inp {
		inp[i] = f.bo.Uint16(pg[bdbPageHeader+2*i:])
		if int(inp[i]) >= len(pg) || int(inp[i]) < bdbPageHeader {
			return nil, errors.New("corrupt page: item offset out of range")
		}
	}
	return inp, nil
}

// overflow reads an item of tlen bytes stored on a chain of overflow pages from pgno.
func (f *bdbFile) overflow(pgno, tlen uint32) ([]byte, error) {
	if int64(tlen) > f.size {
		return nil, errors.New("corrupt overflow item")
	}
	out := make([]byte, 0, tlen)
	for hops := uint32(0); uint32(len(out)) < tlen; hops++ {
		if hops > f.lastPgno {
			return nil, errors.New("corrupt overflow chain")
		}
		buf, err := f.page(pgno)
		if err != nil {
			return nil, err
		}
		if buf[25] != pOVERFLOW {
			return nil, fmt.Errorf("page %d: not an overflow page", pgno)
		}
		n := int(f.bo.Uint16(buf[22:])) // OV_LEN: hf_offset
		if bdbPageHeader+n > len(buf) {
			return nil, errors.New("corrupt overflow page")
		}
		out = append(out, buf[bdbPageHeader:bdbPageHeader+n]...)
		pgno = f.bo.Uint32(buf[16:])
		if pgno == 0 {
			break
		}
	}
	if uint32(len(out)) != tlen {
		return nil, errors.New("corrupt overflow chain")
	}
	return out, nil
}

// get returns the data stored under key.
func (f *bdbFile) get(key []byte) ([]byte, bool, error) {
	if f.hash {
		return f.hashGet(key)
	}
	return f.btreeGet(key)
}

func (f *bdbFile) hashGet(key []byte) ([]byte, bool, error) {
	bucket := bdbHash(key) & f.highMask
	if bucket > f.maxBucket {
		bucket &= f.lowMask
	}
	log2 := 0
	for limit := uint32(1); limit < bucket+1; limit <<= 1 {
		log2++
	}
	if log2 >= len(f.spares) {
		return nil, false, errors.New("corrupt hash meta page")
	}
	pgno := bucket + f.spares[log2]
	for hops := uint32(0); pgno != 0; hops++ {
		if hops > f.lastPgno {
			return nil, false, errors.New("corrupt hash bucket chain")
		}
		buf, err := f.page(pgno)
		if err != nil {
			return nil, false, err
		}
		if t := buf[25]; t != pHASH && t != pHASHU {
			return nil, false, fmt.Errorf("page %d: not a hash page (type %d)", pgno, t)
		}
		inp, err := f.entries(buf)
		if err != nil {
			return nil, false, err
		}
		if buf[25] == pHASH {
			// Berkeley DB 5.3 keeps the pairs of a hash page sorted by key (__bam_defcmp):
			// a binary search; the chain goes on past this page either way.
			lo, hi := 0, len(inp)/2
			for lo < hi {
				m := (lo + hi) / 2
				k, err := f.hashItem(buf, inp, 2*m)
				if err != nil {
					return nil, false, err
				}
				c := bytes.Compare(k, key)
				if c == 0 {
					d, err := f.hashItem(buf, inp, 2*m+1)
					return d, err == nil, err
				}
				if c < 0 {
					lo = m + 1
				} else {
					hi = m
				}
			}
			pgno = f.bo.Uint32(buf[16:])
			continue
		}
		for i := 0; i+1 < len(inp); i += 2 {
			if it := buf[inp[i]]; it == hOFFPAGE && int(inp[i])+12 <= len(buf) && f.bo.Uint32(buf[int(inp[i])+8:]) != uint32(len(key)) {
				continue // a big key of another length: its overflow pages need not be read
			}
			k, err := f.hashItem(buf, inp, i)
			if err != nil {
				return nil, false, err
			}
			if bytes.Equal(k, key) {
				d, err := f.hashItem(buf, inp, i+1)
				return d, err == nil, err
			}
		}
		pgno = f.bo.Uint32(buf[16:])
	}
	return nil, false, nil
}

// hashItem returns item i of a hash page: on-page data (H_KEYDATA) or an off-page item.
func (f *bdbFile) hashItem(pg []byte, inp []uint16, i int) ([]byte, error) {
	start := int(inp[i])
	end := len(pg)
	if i > 0 {
		end = int(inp[i-1])
	}
	if end <= start || end > len(pg) {
		return nil, errors.New("corrupt hash page item")
	}
	it := pg[start:end]
	switch it[0] {
	case hKEYDATA:
		return it[1:], nil
	case hOFFPAGE:
		if len(it) < 12 {
			return nil, errors.New("corrupt off-page item")
		}
		return f.overflow(f.bo.Uint32(it[4:]), f.bo.Uint32(it[8:]))
	default:
		return nil, fmt.Errorf("hash item type %d (duplicates) is not read", it[0])
	}
}

func (f *bdbFile) btreeGet(key []byte) ([]byte, bool, error) {
	pgno := f.root
	for depth := 0; ; depth++ {
		if depth > 64 {
			return nil, false, errors.New("corrupt btree: too deep")
		}
		buf, err := f.page(pgno)
		if err != nil {
			return nil, false, err
		}
		inp, err := f.entries(buf)
		if err != nil {
			return nil, false, err
		}
		switch buf[25] {
		case pIBTREE:
			i, err := childIndex(len(inp), func(i int) ([]byte, error) { return f.binternalKey(buf, inp[i]) }, key)
			if err != nil {
				return nil, false, err
			}
			off := int(inp[i])
			if off+12 > len(buf) {
				return nil, false, errors.New("corrupt btree internal item")
			}
			pgno = f.bo.Uint32(buf[off+4:])
		case pLBTREE:
			// Key/data pairs in key order.
			lo, hi := 0, len(inp)/2
			for lo < hi {
				m := (lo + hi) / 2
				k, del, err := f.bkeydata(buf, inp[2*m])
				if err != nil {
					return nil, false, err
				}
				c := bytes.Compare(k, key)
				if c == 0 {
					if del {
						return nil, false, nil
					}
					d, _, err := f.bkeydata(buf, inp[2*m+1])
					return d, err == nil, err
				}
				if c < 0 {
					lo = m + 1
				} else {
					hi = m
				}
			}
			return nil, false, nil
		default:
			return nil, false, fmt.Errorf("page %d: not a btree page (type %d)", pgno, buf[25])
		}
	}
}

// binternalKey returns the key of a BINTERNAL item: len 2, type 1, unused 1, pgno 4, nrecs 4,
// data (a BOVERFLOW for an overflow key).
func (f *bdbFile) binternalKey(pg []byte, off uint16) ([]byte, error) {
	o := int(off)
	if o+12 > len(pg) {
		return nil, errors.New("corrupt btree internal item")
	}
	n := int(f.bo.Uint16(pg[o:]))
	typ := pg[o+2] & 0x7f
	data := pg[o+12:]
	if n > len(data) {
		return nil, errors.New("corrupt btree internal item")
	}
	data = data[:n]
	if typ == bOVERFLOW {
		if len(data) < 12 {
			return nil, errors.New("corrupt btree overflow key")
		}
		return f.overflow(f.bo.Uint32(data[4:]), f.bo.Uint32(data[8:]))
	}
	return data, nil
}

// bkeydata returns a leaf item: BKEYDATA (len 2, type 1, data) or BOVERFLOW (unused 2,
// type 1, unused 1, pgno 4, tlen 4); del reports a deleted item.
func (f *bdbFile) bkeydata(pg []byte, off uint16) (data []byte, del bool, err error) {
	o := int(off)
	if o+3 > len(pg) {
		return nil, false, errors.New("corrupt btree leaf item")
	}
	typ := pg[o+2]
	del = typ&0x80 != 0
	switch typ & 0x7f {
	case bKEYDATA:
		n := int(f.bo.Uint16(pg[o:]))
		if o+3+n > len(pg) {
			return nil, false, errors.New("corrupt btree leaf item")
		}
		return pg[o+3 : o+3+n], del, nil
	case bOVERFLOW:
		if o+12 > len(pg) {
			return nil, false, errors.New("corrupt btree overflow item")
		}
		d, err := f.overflow(f.bo.Uint32(pg[o+4:]), f.bo.Uint32(pg[o+8:]))
		return d, del, err
	default:
		return nil, false, fmt.Errorf("btree item type %d (duplicates) is not read", typ&0x7f)
	}
}
