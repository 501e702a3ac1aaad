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
