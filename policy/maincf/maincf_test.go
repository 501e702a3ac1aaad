package maincf

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type wantParam struct {
	name, value string
	line, last  int
}

type parseCase struct {
	name    string
	in      string
	want    []wantParam
	diags   []string // Diagnostic.Message, with FILE for the file name
	wantErr string   // SyntaxError.Error(), with FILE for the file name
}

var parseCases = []parseCase{
	{name: "§1.4 dict_load_fp: name = value, blanks around '=' trimmed", in: "a = b\nc=d\ne   =   f g  \n",
		want: []wantParam{{"a", "b", 1, 1}, {"c", "d", 2, 2}, {"e", "f g", 3, 3}}},
	{name: "split_nameval: empty value is allowed", in: "a =\nb=   \n", want: []wantParam{{"a", "", 1, 1}, {"b", "", 2, 2}}},
	{name: "split_nameval: value keeps inner '='", in: "a = b=c = d\n", want: []wantParam{{"a", "b=c = d", 1, 1}}},
	{name: "readllines: a line starting with whitespace continues the entry", in: "a = b\n  c\n\td\ne = f\n",
		want: []wantParam{{"a", "b  c\td", 1, 3}, {"e", "f", 4, 4}}},
	{name: "readllines: comment lines are skipped, also inside a multi-line entry", in: "# top\na = b\n# flush-left comment\n  c\n   # indented comment\n  d\n",
		want: []wantParam{{"a", "b  c  d", 2, 6}}},
	{name: "readllines: blank and whitespace-only lines are skipped, also inside an entry", in: "\n\na = b\n\n   \n  c\n",
		want: []wantParam{{"a", "b  c", 3, 6}}},
	{name: "readllines: '#' after text is part of the value", in: "a = b # not a comment\n", want: []wantParam{{"a", "b # not a comment", 1, 1}}},
	{name: "readllines: last line without newline", in: "a = b", want: []wantParam{{"a", "b", 1, 1}}},
	{name: "readllines: CRLF line ends are whitespace", in: "a = b\r\nc = d\r\n", want: []wantParam{{"a", "b", 1, 1}, {"c", "d", 2, 2}}},
	{name: "readllines: text before the first entry that starts with whitespace is skipped with a warning",
		in: "  orphan = x\na = b\n", want: []wantParam{{"a", "b", 2, 2}},
		diags: []string{`FILE: logical line must not start with whitespace: "  orphan = x"`}},
	{name: "readllines: the warning shows 30 bytes and ...",
		in: " 0123456789012345678901234567890123456789\na = b\n", want: []wantParam{{"a", "b", 2, 2}},
		diags: []string{`FILE: logical line must not start with whitespace: " 01234567890123456789012345678..."`}},
	{name: "dict_load_fp: duplicate name, last one wins, warning names the old value",
		in: "a = 1\nb = x\na = 2\n", want: []wantParam{{"a", "2", 3, 3}, {"b", "x", 2, 2}},
		diags: []string{`FILE, line 3: overriding earlier entry: a=1`}},
	{name: "dict_load_fp: duplicate with the same value is silent", in: "a = 1\na = 1\n", want: []wantParam{{"a", "1", 2, 2}}},
	{name: "split_nameval: line without '=' is fatal", in: "a = b\nfoo bar\n",
		wantErr: `FILE, line 2: missing '=' after attribute name: "foo bar"`},
	{name: "split_nameval: '=' without a name is fatal", in: "= b\n",
		wantErr: `FILE, line 1: missing attribute name: "= b"`},
	{name: "split_nameval: the error shows the whole logical line and its first line", in: "# c\nfoo\n  bar\n",
		wantErr: `FILE, line 2: missing '=' after attribute name: "foo  bar"`},
}

func checkParsed(t *testing.T, tc parseCase, f *File, err error, file string) {
	t.Helper()
	if tc.wantErr != "" {
		var se *SyntaxError
		require.ErrorAs(t, err, &se)
		require.ErrorIs(t, err, ErrSyntax)
		require.EqualError(t, err, strings.ReplaceAll(tc.wantErr, "FILE", file))
		return
	}
	require.NoError(t, err)
	var got []wantParam
	for _, p := range f.Params() {
		got = append(got, wantParam{p.Name, p.Value, p.Line, p.LastLine})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].name < got[j].name })
	require.Equal(t, tc.want, got, "params")
	var diags []string
	for _, d := range f.Diagnostics {
		diags = append(diags, d.Message)
	}
	var want []string
	for _, d := range tc.diags {
		want = append(want, strings.ReplaceAll(d, "FILE", file))
	}
	require.Equal(t, want, diags, "diagnostics")
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tc.in), "main.cf")
			checkParsed(t, tc, f, err, "main.cf")
		})
	}
}

// TestParseOracle compares with what postconf reads: postconf -n for the values (unknown
// names appear in its "unused parameter" warnings), its warnings, and its fatal errors.
func TestParseOracle(t *testing.T) {
	postconfPath(t)
	var jobs []postconfJob
	for _, tc := range parseCases {
		jobs = append(jobs, postconfJob{main: tc.in, args: []string{"-n"}})
	}
	results := runPostconfAll(t, jobs)
	for i, tc := range parseCases {
		res := results[i]
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "main.cf")
			require.NoError(t, os.WriteFile(path, []byte(tc.in), 0o644))
			f, err := ParseFile(context.Background(), path)
			if tc.wantErr != "" {
				// postconf's path differs (another temp dir); compare after the path.
				_, pf, _ := strings.Cut(res.fatal, "main.cf")
				_, we, _ := strings.Cut(err.Error(), "main.cf")
				require.NotEmpty(t, pf, "postconf's fatal error")
				require.Equal(t, pf, we, "postconf fatal %q; we %q", res.fatal, err)
				return
			}
			require.NoError(t, err)
			pc := parsePostconfListing(res.stdout)
			for _, w := range res.warnings {
				if _, nv, ok := strings.Cut(w, "unused parameter: "); ok {
					n, v, _ := strings.Cut(nv, "=")
					pc[n] = normWS(v)
				}
			}
			delete(pc, "config_directory")
			got := map[string]string{}
			for _, p := range f.Params() {
				got[p.Name] = normWS(p.Value)
				if _, known := res.stdoutNames()[p.Name]; !known {
					got[p.Name] = normWS(msgPrintable(p.Value))
				}
			}
			require.Equal(t, pc, got, "postconf's parameters")
			var pw []string
			for _, w := range res.warnings {
				if !strings.Contains(w, "unused parameter") {
					_, after, _ := strings.Cut(w, "main.cf")
					pw = append(pw, after)
				}
			}
			var ours []string
			for _, d := range f.Diagnostics {
				_, after, _ := strings.Cut(d.Message, "main.cf")
				ours = append(ours, after)
			}
			require.Equal(t, pw, ours, "postconf's warnings")
		})
	}
}

func TestParseNullByte(t *testing.T) {
	f, err := Parse(strings.NewReader("a = b\x00c\nd = e\n"), "main.cf")
	require.NoError(t, err)
	p, _ := f.Lookup("a")
	assert.Equal(t, "b", p.Value, "readllines NUL: the text before the NUL byte")
	require.Len(t, f.Diagnostics, 1)
	assert.Equal(t, "main.cf, line 1: text after null byte may be ignored", f.Diagnostics[0].Message)
}

func TestEntriesKeepsOverridden(t *testing.T) {
	f, err := Parse(strings.NewReader("a = 1\na = 2\n"), "main.cf")
	require.NoError(t, err)
	e := f.Entries()
	require.Len(t, e, 2)
	assert.Equal(t, "1", e[0].Value)
	assert.Equal(t, "2", e[1].Value)
}

func TestParseFileErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "main.cf")
	_, err := ParseFile(context.Background(), path)
	require.ErrorIs(t, err, os.ErrNotExist, "mail_conf_suck: missing main.cf")
	require.EqualError(t, err, "open "+path+": no such file or directory", "the path once, not wrapped twice")
	_, err = ParseMasterFile(context.Background(), filepath.Dir(path))
	require.EqualError(t, err, "read "+filepath.Dir(path)+": is a directory", "a read error names the path once")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ParseMasterFile(ctx, "/nonexistent/master.cf")
	require.ErrorIs(t, err, context.Canceled, "cancelled context")
}
