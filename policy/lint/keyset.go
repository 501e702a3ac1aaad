package lint

// keySet is an open-addressing hash set of 96-bit key hashes with the line of each key's
// first occurrence, packed in one 16-byte slot, so that one probe sequence both finds and
// inserts and touches one cache line. A false duplicate among a million keys has a
// probability of about 1e-17.
type keySet struct {
	slots []slot
	n     int
}

type slot struct {
	h0   uint64
	h1   uint32 // never 0 in a used slot
	line int32
}

func newKeySet(hint int) *keySet {
	size := 1024
	for size < hint*4/3 {
		size <<= 1
	}
	return &keySet{slots: make([]slot, size)}
}

func split(h keyHash) (uint64, uint32) {
	return h[0], uint32(h[1]) | 1
}

// insert adds h with line unless it is present; it returns the first line and whether h
// was present.
func (s *keySet) insert(h keyHash, line int32) (int32, bool) {
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	h0, h1 := split(h)
	mask := uint64(len(s.slots) - 1)
	for i := h0 & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.h1 == 0 {
			*sl = slot{h0: h0, h1: h1, line: line}
			s.n++
			return line, false
		}
		if sl.h0 == h0 && sl.h1 == h1 {
			return sl.line, true
		}
	}
}

// get returns the first line of h, if present.
func (s *keySet) get(h keyHash) (int32, bool) {
	h0, h1 := split(h)
	mask := uint64(len(s.slots) - 1)
	for i := h0 & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.h1 == 0 {
			return 0, false
		}
		if sl.h0 == h0 && sl.h1 == h1 {
			return sl.line, true
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]slot, 2*len(old))
	mask := uint64(len(s.slots) - 1)
	for _, sl := range old {
		if sl.h1 == 0 {
			continue
		}
		i := sl.h0 & mask
		for s.slots[i].h1 != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}
