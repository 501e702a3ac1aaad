package release

import (
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
