package pfutil

import "unicode/utf8"

// Printable is printable(text, '?') as Postfix's logger applies it to every message:
// ASCII control characters and DEL become '?'; a non-ASCII byte does too, unless utf is
// set (SMTPUTF8 support on) and it starts a valid UTF-8 sequence, which is kept. s is
// returned as is, without allocating, when it needs no change.
func Printable(s string, utf bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b = append(b, c)
			i++
			continue
		}
		if utf && c >= utf8.RuneSelf {
			if r, n := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || n > 1 {
				b = append(b, s[i:i+n]...)
				i += n
				continue
			}
		}
		b = append(b, '?')
		i++
	}
	return string(b)
}
