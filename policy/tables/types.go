package tables

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/policy/finding"
)

// Sentinel errors. Every error this package returns wraps one of them (test with errors.Is).
var (
	// ErrLookup marks a table lookup error: Postfix's dict->error was set, so maps_find()
	// stopped the search and smtp(8) treats the policy as a configuration problem (for
	// smtp_tls_policy_maps: "policy table lookup error", dsn 4.7.5).
	ErrLookup = errors.New("table lookup error")
	// ErrUnavailable marks a table that Postfix replaced by a surrogate at open time (missing
	// file, bad inline syntax, unknown type, duplicate key in a texthash table opened by a
	// daemon, ...). Every lookup in it fails with "<type>:<name> is unavailable. <reason>".
	ErrUnavailable = errors.New("table is unavailable")
	// ErrEmptyResult marks a table that returned an empty string: maps_find() logs
	// "<title> lookup of <key> returns an empty string result" and reports a configuration
	// error (not a miss).
	ErrEmptyResult = errors.New("table returned an empty string result")
	// ErrNotEmulated marks a table type or regular-expression construct that Postfix accepts
	// but this package cannot reproduce faithfully (ldap:, mysql:, PCRE backreferences, ...).
	// Answers about such a configuration would be guesses, so Open refuses it.
	ErrNotEmulated = errors.New("not emulated")
	// ErrSpec marks a table specification that cannot be parsed at all (for example a
	// socketmap without server:name), where Postfix itself exits with a fatal error.
	ErrSpec = errors.New("invalid table specification")
)

// Severity says how bad a Diagnostic is, in Postfix's terms (the one Severity type of
// package finding).
type Severity = finding.Severity

// Severities, as the Postfix logging prefix ("warning:", "error:", "fatal:").
const (
	Warning = finding.SeverityWarning // msg_warn: the entry or rule was skipped or is suspicious
	Error   = finding.SeverityError   // msg_error: the table was replaced by a surrogate (Postfix keeps running)
	Fatal   = finding.SeverityFatal   // msg_fatal: Postfix would exit
)

// Diagnostic is one message Postfix would log while opening (or, for the "older than source"
// check, using) a table: finding.Diagnostic, the one shape every reader of this module
// reports. Message holds Postfix's exact words; File and Line locate it even where
// Postfix's text has no line number.
type Diagnostic = finding.Diagnostic

// Source says where a lookup result came from.
type Source struct {
	Table string // the table as named in the configuration, e.g. "texthash:/etc/postfix/tls_policy"
	File  string // the file that was read ("" for inline:, static:, socketmap:)
	Line  int    // first line of the entry's logical line (0 when not from a file)
	Key   string // the key as stored (folded) or, for regexp/pcre, the pattern that matched
	Raw   string // the logical entry as Postfix saw it (continuation lines joined)
	Note  string // how the data was obtained, e.g. "via proxymap" or "read from the source file beside ..."
}

// String renders the source for humans and for the check tool's JSON "policy.source":
// "texthash:/etc/postfix/tls_policy:3: example.com secure".
func (s Source) String() string {
	var b strings.Builder
	b.WriteString(s.Table)
	if s.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(s.Line))
	}
	if s.Raw != "" {
		b.WriteString(": ")
		b.WriteString(s.Raw)
	} else if s.Key != "" {
		b.WriteString(": ")
		b.WriteString(s.Key)
	}
	return b.String()
}

// Result is the answer of one table (or list) lookup. Found is false for a clean miss.
type Result struct {
	Found  bool   // the key has an entry
	Value  string // the entry's value (never folded)
	Source Source // where the entry came from
	// Warnings are messages Postfix logs during this lookup without making it an error
	// (e.g. a socketmap query that is too long, a key that is not valid UTF-8).
	Warnings []string
}

// Table is one opened Postfix lookup table.
type Table interface {
	// Name returns the table as configured, "type:name" ("texthash:/etc/postfix/tls_policy",
	// "proxy:hash:/etc/postfix/transport", "inline:{...}").
	Name() string
	// Lookup searches the key as Postfix's dict_get() would. A miss is (Result{}, nil);
	// an error wraps ErrLookup (and ErrUnavailable for surrogate tables).
	Lookup(ctx context.Context, key string) (Result, error)
	// Diagnostics returns what Postfix would have logged when opening the table.
	Diagnostics() []Diagnostic
}

// Dialer opens socketmap connections; *net.Dialer satisfies it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Options control how tables are opened. The zero value opens tables the way a Postfix
// program without special flags would; smtp(8) uses FoldFixed (DICT_FLAG_FOLD_FIX) for
// smtp_tls_policy_maps, so policy code should set it.
type Options struct {
	// FoldFixed is DICT_FLAG_FOLD_FIX: fixed-string tables (texthash, hash, btree, lmdb,
	// cdb, dbm, sdbm, inline, static) fold the query key to lower case. texthash and
	// inline also fold their keys when they are stored (dict_ht does it under the same
	// flag); the indexed types' keys were folded by postmap when it built the file.
	// Pattern tables (regexp, pcre, socketmap) always get the key as given.
	FoldFixed bool
	// UTF8 emulates smtputf8_enable = yes (the default at compatibility_level >= 1):
	// lookup keys that are not valid UTF-8 are not found (with a warning), non-ASCII keys
	// are case-folded (Postfix uses ICU full case folding; this package uses Go's
	// strings.ToLower, which differs for a handful of characters such as U+00DF), and
	// values that are not valid UTF-8 are a lookup error.
	UTF8 bool
	// DuplicateWarn emulates postmap's DICT_FLAG_DUP_WARN for texthash: a duplicate key is
	// a warning and the first entry wins. Without it (the way smtp(8), trivial-rewrite and
	// every other daemon open texthash tables) a duplicate key turns the whole table into a
	// surrogate: every lookup fails. The indexed types always behave as postmap built them
	// (first entry wins, warning).
	DuplicateWarn bool
	// ReadSource reads indexed tables (hash:, btree:, cdb:, lmdb:, dbm:, sdbm:) from their
	// source file, as postmap(1) reads it to build the compiled file, instead of from the
	// compiled file Postfix reads (which must still exist): the view of lint, which judges
	// the source's entries and postmap's build warnings. Without it a table is read from the
	// compiled file (see Open).
	ReadSource bool
	// NoRegsub is DICT_FLAG_NO_REGSUB, which trivial-rewrite uses for transport_maps:
	// regexp/pcre rules whose result contains $number are skipped with Postfix's
	// warning "regular expression substitution is not allowed".
	NoRegsub bool
	// DefaultType is the type used for a table given without "type:" (postmap's
	// default_database_type, "hash" on Debian, "cdb" on some builds). Empty means the
	// daemon behaviour: such a name is an error ("open dictionary: expecting "type:name"
	// form instead of ...").
	DefaultType string
	// BaseDir resolves relative file names. Postfix daemons run in the queue directory
	// (/var/spool/postfix), postmap in the current directory.
	BaseDir string
	// FS, when set, is used for all file access; absolute names are looked up in it with
	// the leading "/" removed (so os.DirFS("/") is equivalent to the default). nil means
	// the operating system's files.
	FS fs.FS
	// Now returns the current time (for the "database ... is older than source file"
	// check, which Postfix skips when the source changed less than 100 s ago). nil = time.Now.
	Now func() time.Time
	// ProxyReadMaps is the expanded value of proxy_read_maps, split into tokens. When it
	// is non-nil, a "proxy:" table that is not listed there (with its "proxy:" prefix) is
	// a surrogate, as proxymap(8) refuses it. nil means "not checked" (noted in Source.Note).
	ProxyReadMaps []string
	// Dialer dials socketmap servers; nil means a net.Dialer. Tests use loopback only.
	Dialer Dialer
	// SocketmapTimeout bounds each socketmap connect, write and read (Postfix: 100 s).
	// The context passed to Lookup can shorten it. Zero means 100 s.
	SocketmapTimeout time.Duration
	// SocketmapMaxReply limits a reply netstring's length (Postfix: 100000). Zero = default.
	SocketmapMaxReply int
	// SocketmapMaxQuery limits the query key length (Postfix 3.12: 10000; longer keys are
	// "not found" with a warning). Zero = default, negative = no limit.
	SocketmapMaxQuery int
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// TableError is the error a single table's Lookup returns. Messages are Postfix's warnings
// for this lookup (e.g. "hash:/etc/postfix/tls_policy is unavailable. open database
// /etc/postfix/tls_policy.db: No such file or directory").
type TableError struct {
	Table    string   // "type:name"
	Key      string   // the key looked up
	Messages []string // Postfix's warnings, in order
	Config   bool     // DICT_ERR_CONFIG (true) or DICT_ERR_RETRY (false)
	Err      error    // ErrUnavailable or another cause; may be nil
}

// Error joins Postfix's messages.
func (e *TableError) Error() string {
	if len(e.Messages) == 0 {
		return fmt.Sprintf("%s lookup error for %q", e.Table, e.Key)
	}
	return strings.Join(e.Messages, "; ")
}

// Unwrap returns ErrLookup and the cause.
func (e *TableError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrLookup, e.Err}
	}
	return []error{ErrLookup}
}

// LookupError is a List lookup failure: the search stopped at Table. Messages are all of
// Postfix's warnings in order, ending with maps_find()'s
// "<type>:<name> lookup error for "<key>"" (or, for an empty result, the two
// "returns an empty string result" / "should return NO RESULT" lines).
type LookupError struct {
	Title    string   // the parameter name, e.g. "smtp_tls_policy_maps"
	Table    string   // the table whose lookup failed ("type:name")
	Key      string   // the key looked up
	Messages []string // Postfix's warnings, in order
	Err      error    // the table's error (a *TableError) or ErrEmptyResult
}

// Error joins Postfix's messages.
func (e *LookupError) Error() string { return strings.Join(e.Messages, "; ") }

// Unwrap returns ErrLookup and the cause.
func (e *LookupError) Unwrap() []error { return []error{ErrLookup, e.Err} }

// OpenError is returned by Open when a table cannot be emulated or its specification is
// unusable. It wraps ErrNotEmulated or ErrSpec.
type OpenError struct {
	Spec    string // the table as configured ("type:name")
	File    string // the file concerned, when there is one
	Line    int    // the line concerned, 0 when none
	Message string // Postfix's text (or ours, for a construct that is not emulated)
	Err     error  // ErrNotEmulated, ErrSpec or an I/O error
}

// Error returns "<spec>: <file>, line <n>: <message>" with the parts that are known.
func (e *OpenError) Error() string {
	var b strings.Builder
	b.WriteString(e.Spec)
	if e.File != "" && e.File != e.Spec {
		b.WriteString(": ")
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(", line ")
			b.WriteString(strconv.Itoa(e.Line))
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the sentinel.
func (e *OpenError) Unwrap() error { return e.Err }
