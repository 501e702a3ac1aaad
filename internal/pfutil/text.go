package pfutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// StrcaseEq is strcasecmp(a, b) == 0 in the C locale, as Postfix and OpenSSL's
// equal_nocase compare: only the ASCII letters fold, every other byte must be equal
// (strings.EqualFold would also fold U+017F to 's' and U+212A to 'k').
func StrcaseEq(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if LowerByte(a[i]) != LowerByte(b[i]) {
			return false
		}
	}
	return true
}

// LowerByte folds one ASCII upper-case letter to lower case and returns any other byte as is.
func LowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// LowerASCII is lowercase() of util/lowercase.c in the C locale: ASCII letters fold, every
// other byte is kept. s is returned without allocating when it has no upper-case letter.
func LowerASCII(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		b[i] = LowerByte(b[i])
	}
	return string(b)
}

// ErrBadBoolean is the error behind every boolean that is neither "yes" nor "no".
var ErrBadBoolean = errors.New("bad boolean configuration")

// Bool reads a Postfix boolean parameter as mail_conf_bool.c does: "yes" or "no" in any
// ASCII case and nothing else ("true", "1", "on" are not booleans to Postfix). Anything
// else is Postfix's fatal "bad boolean configuration: NAME = VALUE", wrapping
// [ErrBadBoolean].
func Bool(name, value string) (bool, error) {
	switch {
	case StrcaseEq(value, "yes"):
		return true, nil
	case StrcaseEq(value, "no"):
		return false, nil
	}
	return false, fmt.Errorf("%w: %s = %s", ErrBadBoolean, name, value)
}

// Strerror renders an error the way C's strerror() (Postfix's %m) prints its errno:
// "No such file or directory", capitalised as glibc writes it. Errors that carry no
// errno are printed as they are, without the path a *fs.PathError adds.
func Strerror(err error) string {
	if err == nil {
		return ""
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if s := errno.Error(); s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "Connection timed out"
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// Strtok is Postfix's mystrtok: skip leading separators, return the token up to the next
// separator and advance past that separator.
func Strtok(s *string, sep string) (string, bool) {
	t := strings.TrimLeft(*s, sep)
	if t == "" {
		*s = ""
		return "", false
	}
	i := strings.IndexAny(t, sep)
	if i < 0 {
		*s = ""
		return t, true
	}
	*s = t[i+1:]
	return t[:i], true
}
