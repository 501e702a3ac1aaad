// Package tables reproduces Postfix's lookup-table ("dictionary") layer as smtp(8) uses
// it for smtp_tls_policy_maps and trivial-rewrite(8) for transport_maps: the table types,
// their file formats, key folding, the ordered search of a table list, and the exact
// difference between "not found" and "lookup error".
//
// # Naming a table
//
// A table is written "type:name" (util/dict_open.c splits at the first colon):
//
//	texthash:/etc/postfix/tls_policy    source file read into memory at startup
//	hash:/etc/postfix/tls_policy        compiled by postmap into tls_policy.db
//	btree: cdb: lmdb: dbm: sdbm:        other compiled formats (.db, .cdb, .lmdb, .dir/.pag)
//	inline:{ a=b, { c = d e } }         entries written in main.cf
//	static:secure, static:{ secure match=nexthop }
//	                                    one value for every key
//	regexp:/etc/postfix/re, pcre:...    ordered pattern rules (also regexp:{ {/x/ y}, ... })
//	socketmap:inet:127.0.0.1:9000:name  a live query server (also socketmap:unix:/path:name)
//	proxy:hash:/etc/postfix/x           the same table, read by proxymap(8)
//	fail:whatever                       every lookup fails
//
// Indexed tables are read from the compiled file that Postfix reads, as smtp(8) does: hash:
// and btree: (Berkeley DB 5.3 hash and btree files, either byte order), cdb: (tinycdb) and
// lmdb: (64-bit little-endian LMDB), by readers of this package that open one page and read
// a few per lookup, whatever the size of the table (CompiledTable). Keys are searched as
// postmap stored them: folded under FoldFixed, first with the trailing null byte postmap
// adds by default, then without it. A stale compiled file still answers, with Postfix's
// warning ("database X.db is older than source file X") in Diagnostics and Source.Note; a
// compiled file whose source was deleted answers too. A missing compiled file, or one that
// is not in the type's format, makes the table a surrogate with Postfix's reason ("open
// database X.db: Invalid argument"; for cdb: a fatal error). Only dbm: and sdbm: files, and
// Berkeley DB variants postmap does not write (encrypted, checksummed, another hash
// function), are read from the source file beside them, which Source.Note then says; so is
// every indexed table under Options.ReadSource (lint's view: postmap's build warnings).
//
// A name without "type:" is an error for Postfix daemons ("open dictionary: expecting
// "type:name" form instead of ..."); only postmap applies default_database_type
// (Options.DefaultType).
//
// # The source file format
//
// postmap(1) and texthash: read the same format (util/readlline.c, postmap/postmap.c,
// util/dict_thash.c):
//
//   - A logical line starts with a non-whitespace character; a physical line that starts
//     with whitespace continues it (the newline is dropped, the leading whitespace kept).
//   - Empty lines, all-whitespace lines and lines whose first non-blank character is '#'
//     are dropped, even between an entry and its continuation lines. '#' elsewhere is
//     ordinary text: "example.com secure # note" has the value "secure # note".
//   - The key ends at the first whitespace outside "..." quotes; a backslash protects the
//     next character. Quotes and backslashes stay in the key. The value is the rest,
//     trimmed. A line without a value is skipped with "expected format: key whitespace
//     value"; an unbalanced quote skips the line too.
//   - Duplicate keys: postmap warns ("duplicate entry") and keeps the first. A daemon
//     (smtp, trivial-rewrite) that opens a texthash table with a duplicate key does not
//     warn and keep going: the whole table becomes unavailable (Options.DuplicateWarn
//     switches to postmap's behaviour).
//
// # Case folding
//
// smtp(8) opens smtp_tls_policy_maps with DICT_FLAG_FOLD_FIX (Options.FoldFixed): for
// fixed-string tables the query key is folded to lower case, and texthash/inline fold
// their keys when they store them; postmap folded the keys of compiled tables when it built
// them. Pattern tables (regexp, pcre, socketmap) get the key exactly as given; regexp and
// pcre patterns are case-insensitive by default, so this rarely matters. Values are never
// folded.
//
// # regexp: and pcre: tables
//
// Each rule is "/pattern/flags result" (any delimiter; "!" before the pattern negates it;
// regexp: also allows "/p1/!/p2/"), or "if /pattern/" ... "endif", which may nest. Rules
// are tried in file order and the first match wins; "$1" or "${1}" in the result is the
// matched substring, "$$" a dollar. regexp: uses POSIX extended regular expressions
// (leftmost-longest), pcre: Perl-compatible ones. Both are translated to Go's regexp
// syntax. Patterns Postfix itself rejects get Postfix's warning and the rule is skipped,
// as Postfix skips it; constructs Go cannot express (backreferences, lookaround, atomic
// groups, possessive quantifiers, conditionals, recursion, \G, \K, GNU \< \>) make Open
// fail with ErrNotEmulated naming the construct, file and line, because any answer would
// be a guess.
//
// # Searching a list
//
// A parameter such as smtp_tls_policy_maps = texthash:/a, hash:/b is a List
// (global/maps.c). Tables are searched in order and the first one that finds the key
// wins. A lookup error in any table (a surrogate table, a socketmap TEMP reply, a broken
// connection) stops the search: the result is an error wrapping ErrLookup, with Postfix's
// messages ("hash:/b is unavailable. open database /b.db: No such file or directory",
// "hash:/b lookup error for "example.com""). smtp(8) then does not fall back to the global
// TLS level: it defers with "client TLS configuration problem". A table that returns an
// empty string is a configuration error too (ErrEmptyResult: "<title> lookup of <key>
// returns an empty string result"), not a miss.
//
// Every problem Postfix would log while opening a table is kept as a Diagnostic with
// Postfix's words; nothing is skipped silently.
//
// # Known differences
//
// Non-ASCII case folding uses Go's strings.ToLower instead of ICU full case folding. PCRE's
// "$" (without the E flag) also matches before a final newline, Go's only at the end;
// lookup keys never end in a newline in practice. regexp: patterns are matched on UTF-8
// runes rather than on bytes in the C locale. Compiled files are never read: an indexed
// table whose source file is missing cannot be opened (ErrNotEmulated), and one whose
// source is newer than the compiled file is answered from the source with a note that
// Postfix would use the stale compiled file.
//
// Tables and lists are safe for concurrent use; socketmap tables serialize their queries
// on one connection, as Postfix's single-threaded processes do.
package tables
