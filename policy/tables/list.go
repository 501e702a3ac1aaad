package tables

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// List is a list of tables searched in order, as global/maps.c does for a parameter such
// as smtp_tls_policy_maps or transport_maps.
type List struct {
	title  string
	tables []Table
}

// SplitMapNames splits a maps parameter value like maps_create(): on commas and
// whitespace, except inside {...} (so "inline:{ a=b, c=d }" stays one table).
func SplitMapNames(value string) []string { return tokenizeQ(value, charsCommaSP) }

// OpenList opens every table named in value (a main.cf parameter value, already
// $-expanded) for the parameter title. Tables Postfix would open as surrogates are kept
// (their lookups fail); an error is returned only when a table cannot be emulated or
// its specification is fatal to Postfix. An empty value gives an empty list.
func OpenList(ctx context.Context, title, value string, opt Options) (*List, error) {
	l := &List{title: title}
	for _, spec := range SplitMapNames(value) {
		t, err := Open(ctx, spec, opt)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("%s: %w", title, err)
		}
		l.tables = append(l.tables, t)
	}
	return l, nil
}

// NewList builds a list from tables that are already open.
func NewList(title string, tables ...Table) *List {
	return &List{title: title, tables: append([]Table(nil), tables...)}
}

// Title returns the parameter name used in messages.
func (l *List) Title() string { return l.title }

// Tables returns the tables in search order.
func (l *List) Tables() []Table { return l.tables }

// Diagnostics returns the open-time diagnostics of all tables, in order.
func (l *List) Diagnostics() []Diagnostic {
	var d []Diagnostic
	for _, t := range l.tables {
		d = append(d, t.Diagnostics()...)
	}
	return d
}

// Close closes the tables that hold resources (socketmap connections).
func (l *List) Close() error {
	var errs []error
	for _, t := range l.tables {
		if c, ok := t.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// Lookup searches the tables in order, as maps_find() does: the first table that finds
// the key wins; a lookup error in any table stops the search and is returned as a
// *LookupError (wrapping ErrLookup); a table that returns an empty string is a
// configuration error (ErrEmptyResult), not a miss. An empty key finds nothing.
func (l *List) Lookup(ctx context.Context, key string) (Result, error) {
	return l.lookup(ctx, key, false)
}

// LookupFixed is maps_find(maps, key, DICT_FLAG_FIXED), which trivial-rewrite uses for
// partial keys (parent domains, "*"): only fixed-string tables are searched; pattern
// tables (regexp, pcre, socketmap, fail, and surrogates) are skipped.
func (l *List) LookupFixed(ctx context.Context, key string) (Result, error) {
	return l.lookup(ctx, key, true)
}

func (l *List) lookup(ctx context.Context, key string, fixedOnly bool) (Result, error) {
	key = cstr(key) // Postfix keys are C strings
	if key == "" {
		return Result{}, nil
	}
	var warnings []string
	for _, t := range l.tables {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if fixedOnly && !IsFixed(t) {
			continue
		}
		r, err := t.Lookup(ctx, key)
		warnings = append(warnings, r.Warnings...)
		if err != nil {
			var msgs []string
			msgs = append(msgs, warnings...)
			var te *TableError
			if errors.As(err, &te) {
				msgs = append(msgs, te.Messages...)
			} else {
				msgs = append(msgs, err.Error())
			}
			msgs = append(msgs, fmt.Sprintf("%s lookup error for \"%s\"", t.Name(), key))
			return Result{}, &LookupError{Title: l.title, Table: t.Name(), Key: key, Messages: msgs, Err: err}
		}
		if !r.Found {
			continue
		}
		if r.Value == "" {
			msgs := append(warnings,
				fmt.Sprintf("%s lookup of %s returns an empty string result", l.title, key),
				fmt.Sprintf("%s should return NO RESULT in case of NOT FOUND", l.title))
			return Result{}, &LookupError{Title: l.title, Table: t.Name(), Key: key, Messages: msgs, Err: ErrEmptyResult}
		}
		r.Warnings = warnings
		return r, nil
	}
	return Result{Warnings: warnings}, nil
}

// IsFixed reports whether Postfix flags the table DICT_FLAG_FIXED (fixed-string keys:
// texthash, hash and the other indexed types, inline, static) rather than
// DICT_FLAG_PATTERN (regexp, pcre, socketmap, fail, and every surrogate). FoldFixed
// applies only to fixed tables.
func IsFixed(t Table) bool {
	switch t := t.(type) {
	case *SourceTable:
		return t.surrogate == nil
	case *inlineTable, *staticTable:
		return true
	case *proxyTable:
		return IsFixed(t.inner)
	}
	return false
}
