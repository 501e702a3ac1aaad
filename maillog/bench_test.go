package maillog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// benchLog builds a log of about n bytes from the oracle excerpts (level 1 and 2, so
// TLS-heavy) plus the smtpd/cleanup/qmgr noise a real maillog is mostly made of, with
// fresh pids and queue IDs, and RFC 3164 prefixes.
func benchLog(b *testing.B, n int) []byte {
	files, _ := filepath.Glob("testdata/oracle/*.log")
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "postfix/") {
				lines = append(lines, l)
			}
		}
	}
	noise := []string{
		"postfix/smtpd[4242]: connect from unknown[198.51.100.7]",
		"postfix/smtpd[4242]: Anonymous TLS connection established from unknown[198.51.100.7]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
		"postfix/cleanup[4243]: 1234567890A: message-id=<20261122.abc@example.org>",
		"postfix/qmgr[100]: 1234567890A: from=<a@example.org>, size=12345, nrcpt=1 (queue active)",
		"postfix/smtpd[4242]: disconnect from unknown[198.51.100.7] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7",
	}
	var buf bytes.Buffer
	for i := 0; buf.Len() < n; i++ {
		for j, l := range lines {
			// shift pids so processes differ per round
			if k := strings.IndexByte(l, '['); k > 0 {
				if e := strings.IndexByte(l[k:], ']'); e > 0 {
					l = l[:k+1] + strconv.Itoa(i*1000+j%7) + l[k+e:]
				}
			}
			buf.WriteString("Nov 22 03:00:00 client ")
			buf.WriteString(l)
			buf.WriteByte('\n')
			for _, x := range noise {
				buf.WriteString("Nov 22 03:00:00 client ")
				buf.WriteString(x)
				buf.WriteByte('\n')
			}
		}
	}
	return buf.Bytes()
}

func BenchmarkReader(b *testing.B) {
	data := benchLog(b, 32<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := NewReader(bytes.NewReader(data), Options{})
		for {
			_, err := r.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if q, p := r.Open(); q > defaultQIDs || p > defaultProcs {
			b.Fatalf("open %d/%d", q, p)
		}
	}
}

func BenchmarkParseLine(b *testing.B) {
	line := []byte("Nov 22 03:00:00 client postfix/smtp[228]: Untrusted TLS connection established to in1-smtp.messagingengine.test[127.0.1.10]:25: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)")
	b.SetBytes(int64(len(line)))
	var h header
	for i := 0; i < b.N; i++ {
		if _, err := parseLine(line, 2026, &h); err != nil {
			b.Fatal(err)
		}
	}
}
