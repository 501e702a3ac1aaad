package release

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersion(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Version
	}{{"3.7.11", V(3, 7, 11)}, {"3.6", V(3, 6, 0)}, {"2", V(2, 0, 0)}, {"3.12-20260821", V(3, 12, 0)}, {"3.10.0-RC1", V(3, 10, 0)}} {
		got, err := Parse(c.in)
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, got)
	}
	for _, bad := range []string{"", "x", "3..1", "3.7.11.2", "-1", "+3"} {
		_, err := Parse(bad)
		require.Error(t, err, bad)
	}
	require.True(t, V(3, 7, 11).AtLeast(3, 7, 0))
	require.True(t, V(3, 6, 16).Before(3, 6, 17))
	require.Equal(t, "3.6", V(3, 6, 0).String())
	require.Equal(t, "3.7.11", V(3, 7, 11).String())
	require.Equal(t, V(3, 11, 6), Latest())
}

func TestZeroIsLatest(t *testing.T) {
	require.True(t, Version{}.IsZero())
	require.Equal(t, Latest(), Version{}.OrLatest())
	require.Equal(t, V(3, 5, 27), V(3, 5, 27).OrLatest())
}

// A change backported to several stable series at once.
func TestFixedIn(t *testing.T) {
	fixed := []Version{V(3, 4, 29), V(3, 5, 19), V(3, 6, 9), V(3, 7, 5), V(3, 8, 0)}
	for _, tc := range []struct {
		v    Version
		want bool
	}{
		{V(3, 4, 28), false}, {V(3, 4, 29), true}, {V(3, 5, 18), false}, {V(3, 5, 25), true},
		{V(3, 7, 4), false}, {V(3, 7, 11), true}, {V(3, 8, 0), true}, {V(3, 11, 6), true},
		{V(3, 3, 99), false}, {V(2, 11, 0), false},
	} {
		require.Equal(t, tc.want, tc.v.FixedIn(fixed...), tc.v.String())
	}
	require.False(t, V(3, 7, 11).FixedIn())
}

// TestParseKnown: a -version flag must name a release the module emulates; the error shows
// the known range (issue: "-version 9.9" and "3.7.99" were accepted silently).
func TestParseKnown(t *testing.T) {
	for _, c := range []struct {
		in, err string
	}{
		{"3.7.11", ""}, {"3.6", ""}, {"2.11.0", ""}, {"3.11.6", ""}, {"3.12-20260821", "newer than the newest release known (3.11.6"},
		{"9.9", "newer than the newest release known"}, {"3.7.99", "the 3.7 series ends at 3.7.22"},
		{"2.2", "older than the oldest release emulated (2.11"}, {"2.10.0", "older than the oldest"}, {"garbage", "not a number"},
	} {
		_, err := ParseKnown(c.in)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ParseKnown(%q) = %v, want %q", c.in, err, c.err)
		}
	}
}
