package tables

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// A reader of the constant database format (cdb) that postmap(1) writes for cdb: tables
// through tinycdb: a 2048-byte header of 256 (position, slots) pairs, records of key length,
// data length, key and data, and 256 hash tables of (hash, position) slots, every number a
// 32-bit little-endian integer. It is 50 lines against the format's own description, so it
// is written here rather than taken from a library.

type cdbFile struct {
	r    io.ReaderAt
	size int64
}

// errCDBInit is what tinycdb's cdb_init() leaves in errno for a file that is not a cdb file
// (Postfix: "dict_cdbq_open: unable to init X.cdb: Protocol error").
var errCDBInit error = strerror("Protocol error")

func openCDB(r io.ReaderAt, size int64) (*cdbFile, error) {
	if size < 2048 || size > 1<<32 { // cdb_init(): EPROTO
		return nil, errCDBInit
	}
	return &cdbFile{r: r, size: size}, nil
}

func cdbHash(k []byte) uint32 {
	h := uint32(5381)
	for _, c := range k {
		h = (h + h<<5) ^ uint32(c)
	}
	return h
}

func (f *cdbFile) u32pair(off int64) (uint32, uint32, error) {
	var b [8]byte
	if _, err := f.r.ReadAt(b[:], off); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), binary.LittleEndian.Uint32(b[4:]), nil
}

// get returns the first record stored under key, as cdb_find() does.
func (f *cdbFile) get(key []byte) ([]byte, bool, error) {
	h := cdbHash(key)
	pos, slots, err := f.u32pair(int64(h&255) * 8)
	if err != nil || slots == 0 {
		return nil, false, err
	}
	start := (h >> 8) % slots
	for i := uint32(0); i < slots; i++ {
		s := (start + i) % slots
		sh, rp, err := f.u32pair(int64(pos) + int64(s)*8)
		if err != nil {
			return nil, false, err
		}
		if rp == 0 {
			return nil, false, nil
		}
		if sh != h {
			continue
		}
		kl, dl, err := f.u32pair(int64(rp))
		if err != nil {
			return nil, false, err
		}
		if int(kl) != len(key) {
			continue
		}
		if int64(rp)+8+int64(kl)+int64(dl) > f.size {
			return nil, false, errors.New("corrupt cdb record")
		}
		buf := make([]byte, int(kl)+int(dl))
		if _, err := f.r.ReadAt(buf, int64(rp)+8); err != nil {
			return nil, false, err
		}
		if bytes.Equal(buf[:kl], key) {
			return buf[kl:], true, nil
		}
	}
	return nil, false, nil
}
