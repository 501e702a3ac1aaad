package maillog

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrNotLog is wrapped by every error of ParseLine: the line is not a syslog or maillog_file
// line with a "program[pid]: " tag.
var ErrNotLog = errors.New("not a Postfix log line")

// Line is one log line split into its syslog parts.
type Line struct {
	// Logged is the line's timestamp as written ("Nov 22 03:00:00",
	// "2026-11-22T03:00:00.123456+01:00"); "" when the line had none (a bare
	// "postfix/smtp[1]: " line).
	Logged string
	// Time is Logged parsed, for ordering. RFC 3164 stamps carry neither year nor zone: Time
	// then has the caller's year and is labelled UTC, though syslog wrote local time; only
	// Logged says what the log says. ISO 8601 / RFC 5424 stamps keep their own zone. Zero
	// when the line had no timestamp.
	Time time.Time
	// Host is the logging host ("" for a bare line, a syslog line without a host field
	// ("Feb  2 12:15:21 postfix/smtp[1520]: ...") and an RFC 5424 "-").
	Host string
	// Program is the whole syslog tag without the pid: "postfix/smtp", "postfix-out/smtp",
	// "postfix/relay/smtp". SyslogName is its part before the last '/' (Postfix's
	// syslog_name, "postfix" above) and Service the part after it ("smtp").
	Program, SyslogName, Service string
	// PID is the process ID in brackets.
	PID int
	// Text is the message after "program[pid]: ".
	Text string
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// ParseLine splits one log line (without its newline) into timestamp, host, program, pid
// and text. It reads RFC 3164 syslog lines ("Nov 22 03:00:00 host postfix/smtp[1234]:
// text"), the same without the host field ("Nov 22 03:00:00 postfix/smtp[1234]: text", as
// some syslog daemons and pasted excerpts have it), ISO 8601 / RFC 3339 stamps as rsyslog,
// journald and Postfix's own maillog_file write them ("2026-11-22T03:00:00.123456+00:00
// host postfix/smtp[1234]: text", with or without the host), RFC 5424 frames ("<22>1
// 2026-11-22T03:00:00Z host postfix/smtp 1234 - - text", "-" for a missing timestamp, host
// or PROCID), an optional leading "<PRI>", and bare "postfix/smtp[1234]: text" lines. year
// is used for RFC 3164 stamps. Errors wrap ErrNotLog.
func ParseLine(b []byte, year int) (Line, error) {
	var h header
	p, err := parseLine(b, year, &h)
	if err != nil {
		return Line{}, err
	}
	l := Line{Logged: string(h.logged), Time: h.time, Host: string(h.host), PID: h.pid, Text: string(b[p:])}
	setProgram(&l, string(h.prog))
	return l, nil
}

// header is a parsed line prefix whose names still point into the input.
type header struct {
	time time.Time
	// logged is the timestamp as written
	logged     []byte
	host, prog []byte
	pid        int
	// stamp caches the last RFC 3164 stamp and its time (logs repeat them).
	stamp     [15]byte
	stampTime time.Time
}

// parseLine fills everything but Text and returns the offset of the text.
func parseLine(b []byte, year int, l *header) (int, error) {
	l.time, l.logged, l.host, l.prog, l.pid = time.Time{}, nil, nil, nil, 0
	if len(b) > 0 && b[0] == '#' {
		// Neither syslog nor Postfix's maillog_file writes one: an annotation someone added
		// (as in testdata/oracle), reported rather than skipped, so that nothing is dropped
		// unseen.
		return 0, fmt.Errorf("%w: a \"#\" comment", ErrNotLog)
	}
	i := 0
	// optional <PRI>
	if len(b) > 0 && b[0] == '<' {
		j := 1
		for j < len(b) && j < 5 && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j < len(b) && b[j] == '>' && j > 1 {
			i = j + 1
		}
	}
	rfc5424 := false
	if i > 0 && len(b) > i+1 && b[i] == '1' && b[i+1] == ' ' {
		rfc5424 = true
		i += 2
	}
	switch {
	case len(b)-i >= 16 && isMonth(b[i:]) && b[i+3] == ' ':
		if string(b[i:i+15]) == string(l.stamp[:]) && !l.stampTime.IsZero() {
			l.time = l.stampTime
		} else {
			t, ok := parse3164(b[i:i+15], year)
			if !ok {
				return 0, fmt.Errorf("%w: bad RFC 3164 timestamp %q", ErrNotLog, clip(b[i:i+15]))
			}
			copy(l.stamp[:], b[i:i+15])
			l.time, l.stampTime = t, t
		}
		if b[i+15] != ' ' {
			return 0, fmt.Errorf("%w: bad RFC 3164 timestamp %q", ErrNotLog, clip(b[i:i+15]))
		}
		l.logged = b[i : i+15]
		i = skipSpace(b, i+16)
		var err error
		if i, err = parseHost(b, i, l); err != nil {
			return 0, err
		}
	case rfc5424 && len(b)-i >= 2 && b[i] == '-' && b[i+1] == ' ':
		// RFC 5424 NILVALUE timestamp
		i = skipSpace(b, i+1)
		h, n := wordB(b, i)
		if string(h) != "-" {
			l.host = h
		}
		return parse5424Tail(b, skipSpace(b, n), l)
	case len(b)-i >= 10 && isDigits(b[i:i+4]) && b[i+4] == '-':
		ts, n := word(b, i)
		l.logged = b[i:n]
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t, err = time.Parse("2006-01-02T15:04:05.999999999", ts)
			if err != nil {
				return 0, fmt.Errorf("%w: bad ISO 8601 timestamp %q", ErrNotLog, clip([]byte(ts)))
			}
		}
		l.time = t
		i = skipSpace(b, n)
		if rfc5424 {
			h, n := wordB(b, i)
			if n == i {
				return 0, fmt.Errorf("%w: no HOSTNAME in the RFC 5424 frame", ErrNotLog)
			}
			if string(h) != "-" {
				l.host = h
			}
			return parse5424Tail(b, skipSpace(b, n), l)
		}
		if i, err = parseHost(b, i, l); err != nil {
			return 0, err
		}
	}
	return parseTag(b, i, l)
}

// parseHost reads the host field after a timestamp, when there is one: a word that holds
// a '[' is the "program[pid]:" tag of a line without a host (host names have no '[').
func parseHost(b []byte, i int, l *header) (int, error) {
	h, n := wordB(b, i)
	if n == i {
		return 0, fmt.Errorf("%w: no host or tag after the timestamp", ErrNotLog)
	}
	if bytes.IndexByte(h, '[') >= 0 {
		return i, nil
	}
	l.host = h
	return skipSpace(b, n), nil
}

// parseTag reads "program[pid]: " at b[i:].
func parseTag(b []byte, i int, l *header) (int, error) {
	// the program: up to '[' (within 256 bytes), without a space or colon
	j, end := i, min(len(b), i+256)
	for j < end && b[j] != '[' && b[j] != ' ' && b[j] != ':' {
		j++
	}
	if j == i || j == end || b[j] != '[' {
		return 0, fmt.Errorf("%w: no \"program[pid]: \" tag", ErrNotLog)
	}
	k := j + 1
	pid := 0
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		if pid < 1<<40 {
			pid = pid*10 + int(b[k]-'0')
		}
		k++
	}
	if k == j+1 || k+2 > len(b) || b[k] != ']' || b[k+1] != ':' {
		return 0, fmt.Errorf("%w: bad pid in tag", ErrNotLog)
	}
	l.pid = pid
	l.prog = b[i:j]
	k += 2
	if k < len(b) && b[k] == ' ' {
		k++
	}
	return k, nil
}

// parse5424Tail reads "APP PROCID MSGID SD MSG" of an RFC 5424 frame.
func parse5424Tail(b []byte, i int, l *header) (int, error) {
	app, n := wordB(b, i)
	i = skipSpace(b, n)
	procid, n := word(b, i)
	i = skipSpace(b, n)
	_, n = word(b, i) // MSGID
	i = skipSpace(b, n)
	if i < len(b) && b[i] == '[' { // structured data: skip to the last ']' of the run
		for i < len(b) && b[i] == '[' {
			for i < len(b) && b[i] != ']' {
				if b[i] == '\\' {
					i++ // an escaped character ("\]" does not end the element)
				}
				i++
			}
			if i >= len(b) {
				return 0, fmt.Errorf("%w: RFC 5424 structured data without its closing \"]\"", ErrNotLog)
			}
			i++
		}
	} else {
		_, n = word(b, i) // "-"
		i = n
	}
	i = skipSpace(b, i)
	pid, err := strconv.Atoi(procid)
	if len(app) == 0 || string(app) == "-" || err != nil || pid < 0 {
		return 0, fmt.Errorf("%w: RFC 5424 frame without APP-NAME and PROCID", ErrNotLog)
	}
	l.pid = pid
	l.prog = app
	return i, nil
}

func setProgram(l *Line, prog string) {
	l.Program = prog
	for k := len(prog) - 1; k >= 0; k-- {
		if prog[k] == '/' {
			l.SyslogName, l.Service = l.Program[:k], l.Program[k+1:]
			return
		}
	}
	l.Service = l.Program
}

func isMonth(b []byte) bool {
	if len(b) < 3 || b[0] < 'A' || b[0] > 'S' || b[1] < 'a' || b[2] < 'a' {
		return false
	}
	for k := range months {
		m := months[k]
		if b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			return true
		}
	}
	return false
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parse3164(b []byte, year int) (time.Time, bool) {
	// "Nov 22 03:00:00" or "Nov  2 03:00:00"
	m := 0
	for k := range months {
		if string(b[:3]) == months[k] {
			m = k + 1
		}
	}
	d1, d2 := b[4], b[5]
	day := 0
	switch {
	case d1 == ' ' && d2 >= '0' && d2 <= '9':
		day = int(d2 - '0')
	case d1 >= '0' && d1 <= '9' && d2 >= '0' && d2 <= '9':
		day = int(d1-'0')*10 + int(d2-'0')
	default:
		return time.Time{}, false
	}
	if b[6] != ' ' || b[9] != ':' || b[12] != ':' || !isDigits(b[7:9]) || !isDigits(b[10:12]) || !isDigits(b[13:15]) {
		return time.Time{}, false
	}
	hh := int(b[7]-'0')*10 + int(b[8]-'0')
	mm := int(b[10]-'0')*10 + int(b[11]-'0')
	ss := int(b[13]-'0')*10 + int(b[14]-'0')
	if m == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(m), day, hh, mm, ss, 0, time.UTC), true
}

func word(b []byte, i int) (string, int) {
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	return string(b[i:j]), j
}

func wordB(b []byte, i int) ([]byte, int) {
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	return b[i:j], j
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func clip(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
