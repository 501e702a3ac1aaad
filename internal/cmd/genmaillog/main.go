// Command genmaillog writes a large synthetic Postfix log for measuring postfixtls explain:
// the real Postfix 3.7.11 lines of maillog/testdata/oracle/*.log, replayed over and over
// with fresh queue IDs and pids, RFC 3164 stamps ("Jan  1 00:00:00 mx ") one second apart
// per replayed case, and the recipient domains spread over -destinations destinations
// ("user@d000123.example.test"). Nothing is invented but the stamps, IDs, pids and domain
// prefixes: every line is one Postfix wrote.
//
//	go run ./internal/cmd/genmaillog [-size 400000000] [-destinations 200000] [-per-recipient] [-o FILE]
//
// With -per-recipient every recipient line gets the next domain instead (so 400 MB hold
// 200,000 destinations; a queue ID's later passes then count as other destinations).
// The output stops at the first whole case after -size bytes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// piece is a part of a template line: literal text, or a queue ID (index into the case's
// IDs, with its length), a pid (the logged one) or a recipient domain.
type piece struct {
	text   string
	qid    int // -1 when not a queue ID
	qidLen int
	pid    int // 0 when not a pid
	domain bool
}

var (
	stampHost = regexp.MustCompile(`^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+ `)
	token     = regexp.MustCompile(`\b[0-9A-F]{10,12}\b|\[[0-9]+\]: |@[^>@ ]+>`)
)

func main() {
	size := flag.Int64("size", 400_000_000, "bytes to write (at least)")
	dests := flag.Int("destinations", 200_000, "distinct recipient domains")
	perLine := flag.Bool("per-recipient", false, "a new recipient domain for every recipient line (not one per replayed case): more destinations in fewer bytes")
	dir := flag.String("oracle", "maillog/testdata/oracle", "directory of the oracle logs")
	out := flag.String("o", "-", "output file (- for standard output)")
	flag.Parse()
	if err := run(*dir, *out, *size, *dests, *perLine); err != nil {
		fmt.Fprintln(os.Stderr, "genmaillog:", err)
		os.Exit(1)
	}
}

func run(dir, out string, size int64, dests int, perLine bool) error {
	if dests <= 0 {
		return fmt.Errorf("-destinations %d: must be at least 1", dests)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no %s/*.log", dir)
	}
	var cases [][][]piece
	for _, f := range files {
		c, err := load(f)
		if err != nil {
			return err
		}
		cases = append(cases, c)
	}
	var w io.Writer = os.Stdout
	if out != "-" {
		fh, err := os.Create(out)
		if err != nil {
			return err
		}
		defer fh.Close()
		w = fh
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	stamp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var written int64
	var qidSeq int64 = 1 << 36
	buf := make([]byte, 0, 4096)
	nrcpt := 0
	for inst := 0; written < size; inst++ {
		c := cases[inst%len(cases)]
		prefix := stamp.Format(time.Stamp) + " mx "
		domain := fmt.Sprintf("@d%06d.", inst%dests)
		pidBase := 1000 + (inst*97)%3_000_000
		base := qidSeq
		qidSeq += 64
		for _, line := range c {
			buf = append(buf[:0], prefix...)
			for _, p := range line {
				switch {
				case p.qid >= 0:
					s := strconv.FormatInt(base+int64(p.qid), 16)
					s = strings.ToUpper(s)
					if len(s) > p.qidLen {
						s = s[len(s)-p.qidLen:]
					}
					buf = append(buf, strings.Repeat("0", p.qidLen-len(s))...)
					buf = append(buf, s...)
				case p.pid > 0:
					buf = append(buf, '[')
					buf = strconv.AppendInt(buf, int64(pidBase+p.pid%1000), 10)
					buf = append(buf, "]: "...)
				case p.domain && perLine:
					buf = append(buf, fmt.Sprintf("@d%06d.", nrcpt%dests)...)
					buf = append(buf, p.text...)
					nrcpt++
				case p.domain:
					buf = append(buf, domain...)
					buf = append(buf, p.text...)
				default:
					buf = append(buf, p.text...)
				}
			}
			buf = append(buf, '\n')
			n, err := bw.Write(buf)
			if err != nil {
				return err
			}
			written += int64(n)
		}
		stamp = stamp.Add(time.Second)
	}
	return bw.Flush()
}

// load reads one oracle log into template lines: comments dropped, stamps and hosts
// stripped, queue IDs, pids and recipient domains marked.
func load(name string) ([][]piece, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	qids := map[string]int{}
	var lines [][]piece
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		l = stampHost.ReplaceAllString(l, "")
		var line []piece
		last := 0
		for _, m := range token.FindAllStringIndex(l, -1) {
			tok := l[m[0]:m[1]]
			p := piece{qid: -1}
			switch {
			case tok[0] == '[':
				p.pid, _ = strconv.Atoi(tok[1 : len(tok)-3])
				if p.pid == 0 {
					continue
				}
			case tok[0] == '@':
				// a recipient (to=<...@domain>, orig_to=<...>), not a sender's domain
				if !strings.Contains(l[max(0, m[0]-40):m[0]], "to=<") {
					continue
				}
				p.domain, p.text = true, tok[1:]
			default:
				if m[1] >= len(l) || (l[m[1]] != ':' && l[m[1]] != '.' && l[m[1]] != '@') {
					continue // hex in a fingerprint or a name, not a queue ID
				}
				k, ok := qids[tok]
				if !ok {
					k = len(qids)
					qids[tok] = k
				}
				p.qid, p.qidLen = k, len(tok)
			}
			line = append(line, piece{text: l[last:m[0]], qid: -1})
			line = append(line, p)
			last = m[1]
		}
		line = append(line, piece{text: l[last:], qid: -1})
		lines = append(lines, line)
	}
	if len(qids) > 64 {
		return nil, fmt.Errorf("%s: %d queue IDs, more than 64", name, len(qids))
	}
	return lines, nil
}
