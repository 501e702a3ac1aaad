package policy

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseLevel(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Level
		ok   bool
	}{
		{"§1.2 level words are case-insensitive", "SECURE", Secure, true},
		{"§1.2 dane-only", "Dane-Only", DaneOnly, true},
		{"§1.2 halfdane is internal and rejected", "halfdane", LevelNotSet, false},
		{"§1.2 unknown word rejected", "securee", LevelNotSet, false},
		{"tls_level_lookup folds ASCII only (U+017F long s is not s)", "ſecure", LevelNotSet, false},
		{"empty is not a level", "", LevelNotSet, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := ParseLevel(c.in)
			require.Equal(t, c.ok, ok)
			require.Equal(t, c.want, got)
		})
	}
}

func TestLevelOrderAndPredicates(t *testing.T) {
	// §0: none < may < encrypt < fingerprint < halfdane < dane < dane-only < verify < secure.
	order := []Level{None, May, Encrypt, Fingerprint, HalfDane, Dane, DaneOnly, Verify, Secure}
	for i := 1; i < len(order); i++ {
		require.Less(t, order[i-1], order[i])
	}
	require.False(t, May.TLSRequired())
	require.True(t, Encrypt.TLSRequired())
	require.False(t, Encrypt.MustMatch())
	require.True(t, Fingerprint.MustMatch())
	require.True(t, HalfDane.IsDANE())
	require.True(t, Secure.IsPKIX())
	b, err := json.Marshal(map[string]Level{"l": DaneOnly, "h": HalfDane})
	require.NoError(t, err)
	require.JSONEq(t, `{"l":"dane-only","h":"halfdane"}`, string(b))
	var back map[string]Level
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, HalfDane, back["h"])
}

func TestVersion(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Version
	}{{"3.7.11", V(3, 7, 11)}, {"3.6", V(3, 6, 0)}, {"2", V(2, 0, 0)}, {"3.12-20260821", V(3, 12, 0)}, {"3.10.0-RC1", V(3, 10, 0)}} {
		got, err := ParseVersion(c.in)
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, got)
	}
	for _, bad := range []string{"", "x", "3..1", "3.7.11.2", "-1", "+3"} {
		_, err := ParseVersion(bad)
		require.Error(t, err, bad)
	}
	require.True(t, V(3, 7, 11).AtLeast(3, 7, 0))
	require.True(t, V(3, 6, 16).Before(3, 6, 17))
	require.Equal(t, "3.6", V(3, 6, 0).String())
	require.Equal(t, "3.7.11", V(3, 7, 11).String())
	require.Equal(t, V(3, 11, 6), Latest())
}
