package tables

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListSearch(t *testing.T) {
	ctx := context.Background()
	old := time.Now().Add(-time.Hour)
	fsys := fstest.MapFS{
		"etc/postfix/a":       {Data: []byte("example.com secure\nshared.example a-wins\n"), ModTime: old},
		"etc/postfix/b":       {Data: []byte("shared.example b-loses\nonly-b.example may\n"), ModTime: old},
		"etc/postfix/b.db":    {Data: []byte("x"), ModTime: old},
		"etc/postfix/nodb":    {Data: []byte("x y\n"), ModTime: old},
		"etc/postfix/dupe":    {Data: []byte("x 1\nx 2\n"), ModTime: old},
		"etc/postfix/empty.v": {Data: []byte("e \"\"\n"), ModTime: old},
	}
	// b.db is not a real compiled file: read hash:/etc/postfix/b from its source.
	opt := Options{FS: fsys, FoldFixed: true, ReadSource: true}
	cases := []struct {
		name, value, key, want, errText string
		found                           bool
	}{
		{"§1.1 first table that finds the key wins", "texthash:/etc/postfix/a, hash:/etc/postfix/b", "shared.example", "a-wins", "", true},
		{"§1.1 later table is searched after a miss", "texthash:/etc/postfix/a hash:/etc/postfix/b", "ONLY-B.example", "may", "", true},
		{"§1.1 miss in every table", "texthash:/etc/postfix/a,hash:/etc/postfix/b", "none.example", "", "", false},
		{"§9 vector 19: missing .db stops the search with a lookup error", "hash:/etc/postfix/nodb, static:{may}", "example.com", "",
			"hash:/etc/postfix/nodb is unavailable. open database /etc/postfix/nodb.db: No such file or directory; hash:/etc/postfix/nodb lookup error for \"example.com\"", false},
		{"§1.4 an error after a hit is never reached", "texthash:/etc/postfix/a, hash:/etc/postfix/nodb", "example.com", "secure", "", true},
		{"§1.4 a miss before the error still errors", "texthash:/etc/postfix/a, hash:/etc/postfix/nodb", "x.example", "",
			"hash:/etc/postfix/nodb is unavailable. open database /etc/postfix/nodb.db: No such file or directory; hash:/etc/postfix/nodb lookup error for \"x.example\"", false},
		{"§1.1 duplicate key makes a daemon's texthash unavailable", "texthash:/etc/postfix/dupe", "x", "",
			"texthash:/etc/postfix/dupe is unavailable. /etc/postfix/dupe, line 2: duplicate entry: \"x\"; texthash:/etc/postfix/dupe lookup error for \"x\"", false},
		{"§1.1 inline braces survive the comma split", "inline:{ {a = b c}, d=e }, static:x", "a", "b c", "", true},
		{"§1.1 static catches everything", "texthash:/etc/postfix/a static:{ encrypt }", "other", "encrypt", "", true},
		{"§1.1 empty string result is an error", "inline:{{e=}}", "e", "",
			"smtp_tls_policy_maps lookup of e returns an empty string result; smtp_tls_policy_maps should return NO RESULT in case of NOT FOUND", false},
		{"§1.1 empty key finds nothing", "static:x", "", "", "", false},
		{"§1.4 name without type", "/etc/postfix/a", "example.com", "",
			"/etc/postfix/a: is unavailable. open dictionary: expecting \"type:name\" form instead of \"/etc/postfix/a\"; /etc/postfix/a: lookup error for \"example.com\"", false},
		{"§1.1 fail: stops the search", "fail:x, static:y", "k", "", "fail:x lookup error for \"k\"", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := OpenList(ctx, "smtp_tls_policy_maps", tc.value, opt)
			require.NoError(t, err)
			defer l.Close()
			r, err := l.Lookup(ctx, tc.key)
			if tc.errText != "" {
				require.ErrorIs(t, err, ErrLookup)
				assert.Equal(t, tc.errText, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.found, r.Found)
			assert.Equal(t, tc.want, r.Value)
		})
	}
}

func TestListFixedOnly(t *testing.T) {
	ctx := context.Background()
	l, err := OpenList(ctx, "transport_maps", "regexp:{{/./ pattern}}, hash:/nonexist, inline:{.example.com=smtp:[relay]}", Options{FoldFixed: true})
	require.NoError(t, err)
	r, err := l.LookupFixed(ctx, ".example.com")
	require.NoError(t, err, "partial lookups skip pattern tables and surrogates")
	assert.Equal(t, "smtp:[relay]", r.Value)
	_, err = l.Lookup(ctx, "example.com")
	require.NoError(t, err)
	r, _ = l.Lookup(ctx, "example.com")
	assert.Equal(t, "pattern", r.Value)
	assert.Equal(t, "transport_maps", l.Title())
	assert.Len(t, l.Tables(), 3)
	assert.NotEmpty(t, l.Diagnostics())
}

func TestOpenListNotEmulated(t *testing.T) {
	_, err := OpenList(context.Background(), "smtp_tls_policy_maps", "static:x, ldap:/etc/postfix/ldap.cf", Options{})
	require.ErrorIs(t, err, ErrNotEmulated)
	assert.Contains(t, err.Error(), "smtp_tls_policy_maps: ldap:/etc/postfix/ldap.cf")
}

func TestSplitMapNames(t *testing.T) {
	assert.Equal(t, []string{"texthash:/a", "hash:/b", "inline:{ a=b, {c = d} }", "static:{x y}"},
		SplitMapNames(" texthash:/a,hash:/b\n\tinline:{ a=b, {c = d} } , static:{x y}"))
}

// TestDuplicateKeyOracle reproduces what real smtp(8) 3.7.11 logged in the oracle for a
// texthash policy table with a duplicate key (case "dupcase", run by this package's
// author): the whole table is unavailable and delivery defers.
func TestDuplicateKeyOracle(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{"etc/postfix/tls_policy": {Data: []byte(
		"sub.example.test may\nother.example.test encrypt\nSUB.example.test secure\n")}}
	l, err := OpenList(ctx, "smtp_tls_policy_maps", "texthash:/etc/postfix/tls_policy", Options{FS: fsys, FoldFixed: true})
	require.NoError(t, err)
	d := l.Diagnostics()
	require.Len(t, d, 1)
	assert.Equal(t, `error: /etc/postfix/tls_policy, line 3: duplicate entry: "SUB.example.test"`, d[0].String())
	_, err = l.Lookup(ctx, "sub.example.test")
	var le *LookupError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, []string{
		`texthash:/etc/postfix/tls_policy is unavailable. /etc/postfix/tls_policy, line 3: duplicate entry: "SUB.example.test"`,
		`texthash:/etc/postfix/tls_policy lookup error for "sub.example.test"`,
	}, le.Messages)
}
