package maincf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
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
		if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) || err.Error() != strings.ReplaceAll(tc.wantErr, "FILE", file) {
			t.Fatalf("err = %v; want %s", err, tc.wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var got []wantParam
	for _, p := range f.Params() {
		got = append(got, wantParam{p.Name, p.Value, p.Line, p.LastLine})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].name < got[j].name })
	if !reflect.DeepEqual(got, tc.want) {
		t.Fatalf("params = %+v; want %+v", got, tc.want)
	}
	var diags []string
	for _, d := range f.Diagnostics {
		diags = append(diags, d.Message)
	}
	var want []string
	for _, d := range tc.diags {
		want = append(want, strings.ReplaceAll(d, "FILE", file))
	}
	if !reflect.DeepEqual(diags, want) {
		t.Fatalf("diagnostics = %q; want %q", diags, want)
	}
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
			if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := ParseFile(context.Background(), path)
			if tc.wantErr != "" {
				// postconf's path differs (another temp dir); compare after the path.
				_, pf, _ := strings.Cut(res.fatal, "main.cf")
				_, we, _ := strings.Cut(err.Error(), "main.cf")
				if pf == "" || pf != we {
					t.Fatalf("postconf fatal %q; we %q", res.fatal, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
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
			if !reflect.DeepEqual(got, pc) {
				t.Fatalf("postconf %q; we %q", pc, got)
			}
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
			if !reflect.DeepEqual(pw, ours) {
				t.Fatalf("postconf warnings %q; ours %q", pw, ours)
			}
		})
	}
}

func TestParseNullByte(t *testing.T) {
	f, err := Parse(strings.NewReader("a = b\x00c\nd = e\n"), "main.cf")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := f.Lookup("a"); p.Value != "b" {
		t.Fatalf("readllines NUL: value %q; want text before the NUL byte", p.Value)
	}
	if len(f.Diagnostics) != 1 || f.Diagnostics[0].Message != "main.cf, line 1: text after null byte may be ignored" {
		t.Fatalf("diagnostics %v", f.Diagnostics)
	}
}

func TestEntriesKeepsOverridden(t *testing.T) {
	f, err := Parse(strings.NewReader("a = 1\na = 2\n"), "main.cf")
	if err != nil {
		t.Fatal(err)
	}
	if e := f.Entries(); len(e) != 2 || e[0].Value != "1" || e[1].Value != "2" {
		t.Fatalf("Entries() = %+v", e)
	}
}

func TestParseFileErrors(t *testing.T) {
	_, err := ParseFile(context.Background(), filepath.Join(t.TempDir(), "main.cf"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("mail_conf_suck: missing main.cf: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ParseMasterFile(ctx, "/nonexistent/master.cf"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}
