package maillog

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Input is one log file (or standard input) opened for NewReader: decompressed when it
// starts with gzip's magic bytes, whatever its name, and buffered.
type Input struct {
	// Name is as given to OpenInput ("-" for standard input).
	Name string
	// R reads the log text.
	R *bufio.Reader
	// First is the time of the first line with a timestamp in the first 64 KiB (zero when
	// there is none); SortInputs orders by it.
	First time.Time
	close func() error
}

// Display is the input's name for messages: "standard input" for "-".
func (in *Input) Display() string {
	if in.Name == "-" {
		return "standard input"
	}
	return in.Name
}

// Close closes the file (not standard input).
func (in *Input) Close() error { return in.close() }

// OpenInput opens name ("-": stdin, which may be nil for an empty input), detects gzip by
// its magic bytes and finds the first timestamp. A file that cannot be opened is the
// *fs.PathError, which names it.
func OpenInput(name string, stdin io.Reader) (*Input, error) {
	in := &Input{Name: name, close: func() error { return nil }}
	var src io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		src, in.close = f, f.Close
	}
	if src == nil {
		src = strings.NewReader("")
	}
	br := bufio.NewReaderSize(src, 64<<10)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			in.close()
			return nil, fmt.Errorf("%s: gzip: %w", in.Display(), err)
		}
		br = bufio.NewReaderSize(gz, 64<<10)
	}
	in.R = br
	head, _ := br.Peek(64 << 10)
	year := time.Now().Year()
	for len(head) > 0 {
		line := head
		if i := strings.IndexByte(string(head), '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if l, err := ParseLine(line, year); err == nil && !l.Time.IsZero() {
			in.First = l.Time
			break
		}
	}
	return in, nil
}

// SortInputs puts the inputs oldest first (maillog.1 before maillog) when every input's
// first timestamp says which is older; else it keeps the order given. Yearless syslog
// stamps are compared within one year.
func SortInputs(inputs []*Input) {
	for _, in := range inputs {
		if in.First.IsZero() {
			return
		}
	}
	sort.SliceStable(inputs, func(i, j int) bool { return inputs[i].First.Before(inputs[j].First) })
}
