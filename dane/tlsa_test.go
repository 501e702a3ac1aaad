package dane

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseRecord(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Record
		err  bool
	}{
		{"§6.3 bare RDATA, lower-case hex", "3 1 1 abcdef", Record{3, 1, 1, []byte{0xab, 0xcd, 0xef}}, false},
		{"§6.3 hex in any case", "2 0 1 ABcdEF", Record{2, 0, 1, []byte{0xab, 0xcd, 0xef}}, false},
		{"§6.3 white space inside the data", "3 1 1 ab cd\tef", Record{3, 1, 1, []byte{0xab, 0xcd, 0xef}}, false},
		{"§6.3 whole zone-file RR", "_25._tcp.mx.example.com. 300 IN TLSA 3 1 1 00ff", Record{3, 1, 1, []byte{0, 0xff}}, false},
		{"§6.3 parenthesised multi-line RR with comment", "_25._tcp.mx IN TLSA ( 3 1 1\n 0011\n 2233 ) ; key", Record{3, 1, 1, []byte{0, 0x11, 0x22, 0x33}}, false},
		{"§6.3 whole RR whose owner is the relative name tlsa", "tlsa IN TLSA 3 1 1 00ff", Record{3, 1, 1, []byte{0, 0xff}}, false},
		{"§6.3 usage 255 parses (judged later)", "255 1 1 00", Record{255, 1, 1, []byte{0}}, false},
		{"§6.3 empty data parses (dropped later as truncated)", "3 1 1", Record{3, 1, 1, []byte{}}, false},
		{"colon-separated hex pairs, as posttls-finger and openssl print digests", "3 0 1 B3:E7:0f", Record{3, 0, 1, []byte{0xb3, 0xe7, 0x0f}}, false},
		{"malformed: a stray colon", "3 0 1 B3::E7", Record{}, true},
		{"malformed: odd hex", "3 1 1 abc", Record{}, true},
		{"malformed: non-hex", "3 1 1 zz", Record{}, true},
		{"malformed: usage 256", "256 1 1 00", Record{}, true},
		{"malformed: negative selector", "3 -1 1 00", Record{}, true},
		{"malformed: too few fields", "3 1", Record{}, true},
		{"malformed: empty", "", Record{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseRecord(c.in)
			if c.err {
				if err == nil || !errors.Is(err, ErrMalformedRecord) {
					t.Fatalf("err = %v, want ErrMalformedRecord", err)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Reason == "" {
					t.Fatalf("no ParseError reason: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Usage != c.want.Usage || got.Selector != c.want.Selector || got.MatchingType != c.want.MatchingType || !bytes.Equal(got.Data, c.want.Data) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseRecordsReportsLines(t *testing.T) {
	recs, err := ParseRecords("; comment\n3 1 1 00\n3 1 1 xyz\n\n2 0 1 ff\n")
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	if err == nil || !strings.Contains(err.Error(), "line 3:") {
		t.Fatalf("err = %v, want line 3", err)
	}
}

func TestWireAndRR(t *testing.T) {
	r := Record{3, 1, 1, []byte{0xDE, 0xAD}}
	w, err := RecordFromWire(r.Wire())
	if err != nil || w.String() != "3 1 1 dead" {
		t.Fatalf("wire round trip: %v %v", w, err)
	}
	if _, err := RecordFromWire([]byte{3, 1}); !errors.Is(err, ErrMalformedRecord) {
		t.Fatalf("short RDATA: %v", err)
	}
	rr := r.RR("_25._tcp.mx.example.com", 300)
	rr.Certificate = "DEAD" // miekg/dns would compare this text case-sensitively; we decode it
	back, err := RecordFromRR(rr)
	if err != nil || !bytes.Equal(back.Data, r.Data) {
		t.Fatalf("RR round trip: %v %v", back, err)
	}
	if _, err := RecordFromRR(&dns.TLSA{Certificate: "nothex"}); err == nil {
		t.Fatal("bad RR hex accepted")
	}
	if _, err := RecordFromRR(nil); err == nil {
		t.Fatal("nil RR accepted")
	}
	if got := QueryName("mx.example.com", 25); got != "_25._tcp.mx.example.com." {
		t.Fatal(got)
	}
}

func TestPostfixString(t *testing.T) {
	long := make([]byte, 65)
	for i := range long {
		long[i] = byte(i)
	}
	cases := []struct {
		name string
		r    Record
		want string
	}{
		{"§6.3 hex upper-case", Record{1, 1, 1, []byte{0xab, 0x01}}, "1 1 1 AB01"},
		{"§6.3 over 64 bytes: first 32, ..., last 32", Record{0, 0, 0, long},
			"0 0 0 " + strings.ToUpper("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f") + "..." +
				strings.ToUpper("2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40")},
		{"§6.3 exactly 64 bytes in full", Record{3, 0, 0, long[:64]}, "3 0 0 " + strings.ToUpper(hexs(long[:64]))},
		{"empty data shows ...", Record{3, 1, 1, nil}, "3 1 1 ..."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.r.PostfixString(); got != c.want {
				t.Fatalf("got %s\nwant %s", got, c.want)
			}
		})
	}
}

func hexs(b []byte) string { return Record{Data: b}.String()[6:] }
