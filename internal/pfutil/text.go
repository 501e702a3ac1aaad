package pfutil

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// ErrBadTime is the error behind every time parameter value conv_time() rejects.
var ErrBadTime = errors.New("bad time value or unit")

// Duration reads a Postfix time parameter as conv_time() (util/conv_time.c) and
// mail_conf_time.c do: a decimal number as strtol reads it (leading white space and a sign
// allowed; negative values rejected), then at most one unit letter — s, m, h, d or w — or,
// without one, defUnit, the unit of the parameter's default value. Anything else, and values
// that overflow a C int of seconds, is Postfix's fatal "parameter NAME: bad time value or
// unit: VALUE", wrapping [ErrBadTime].
func Duration(name, value string, defUnit byte) (time.Duration, error) {
	bad := fmt.Errorf("parameter %s: %w: %s", name, ErrBadTime, value)
	s := strings.TrimLeft(value, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, bad
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxInt32 || (neg && n != 0) {
		return 0, bad
	}
	rest := s[i:]
	if len(rest) > 1 {
		return 0, bad
	}
	unit := defUnit
	if rest != "" {
		unit = rest[0]
	}
	var mul int64
	switch unit {
	case 's':
		mul = 1
	case 'm':
		mul = 60
	case 'h':
		mul = 3600
	case 'd':
		mul = 86400
	case 'w':
		mul = 7 * 86400
	default:
		return 0, bad
	}
	if n > math.MaxInt32/mul {
		return 0, bad
	}
	return time.Duration(n*mul) * time.Second, nil
}
