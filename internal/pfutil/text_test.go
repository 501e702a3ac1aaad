package pfutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mail_conf_bool.c: only "yes" and "no" (strcasecmp) are booleans.
func TestBoolMailConfBool(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
		ok   bool
	}{
		{"yes", true, true}, {"YES", true, true}, {"Yes", true, true},
		{"no", false, true}, {"No", false, true},
		{"true", false, false}, {"1", false, false}, {"on", false, false},
		{" yes", false, false}, {"", false, false}, {"ye\u017f", false, false},
	} {
		got, err := Bool("smtp_enforce_tls", tc.in)
		if !tc.ok {
			require.ErrorIs(t, err, ErrBadBoolean, tc.in)
			assert.Equal(t, "bad boolean configuration: smtp_enforce_tls = "+tc.in, err.Error())
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

// strcasecmp in the C locale folds ASCII letters only.
func TestStrcaseEq(t *testing.T) {
	assert.True(t, StrcaseEq("Example.COM", "example.com"))
	assert.False(t, StrcaseEq("\u212a", "k"))
	assert.False(t, StrcaseEq("s", "\u017f"))
	assert.False(t, StrcaseEq("ab", "abc"))
	assert.Equal(t, "mx.example.\u00c9", LowerASCII("MX.Example.\u00c9"))
	s := "already lower"
	assert.Equal(t, s, LowerASCII(s))
}

// %m prints strerror(errno), capitalised as glibc writes it.
func TestStrerror(t *testing.T) {
	assert.Equal(t, "No such file or directory", Strerror(&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}))
	assert.Equal(t, "Permission denied", Strerror(fmt.Errorf("wrap: %w", fs.ErrPermission)))
	assert.Equal(t, "Connection timed out", Strerror(os.ErrDeadlineExceeded))
	assert.Equal(t, "Is a directory", Strerror(syscall.EISDIR))
	assert.Equal(t, "Odd", Strerror(&fs.PathError{Op: "open", Path: "/x", Err: errors.New("odd")}))
	assert.Equal(t, "", Strerror(nil))
}

// conv_time() (util/conv_time.c) as mail_conf_time.c applies it.
func TestDurationConvTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		def  byte
		want time.Duration
		ok   bool
	}{
		{"300s", 's', 300 * time.Second, true},
		{"300", 's', 300 * time.Second, true},
		{"5m", 's', 5 * time.Minute, true},
		{"5", 'm', 5 * time.Minute, true},
		{"1w", 's', 7 * 24 * time.Hour, true},
		{" +2h", 's', 2 * time.Hour, true},
		{"-0", 's', 0, true},
		{"-5s", 's', 0, false},
		{"60s # comment", 's', 0, false},
		{"60ss", 's', 0, false},
		{"5x", 's', 0, false},
		{"", 's', 0, false},
		{"s", 's', 0, false},
		{"4000w", 's', 0, false},
	} {
		got, err := Duration("smtp_helo_timeout", tc.in, tc.def)
		if !tc.ok {
			require.ErrorIs(t, err, ErrBadTime, tc.in)
			assert.Equal(t, "parameter smtp_helo_timeout: bad time value or unit: "+tc.in, err.Error())
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}
