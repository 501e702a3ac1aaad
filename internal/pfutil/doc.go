// Package pfutil ports the routines of Postfix's util/ library that the policy,
// policy/maincf and policy/tables parsers share, so that they behave alike.
//
// # Logical lines: readllines() (util/readlline.c)
//
// [Reader] reads configuration and table files the way readllines() does.
// A logical line is one physical line plus every following physical line that starts
// with whitespace (a continuation). Comment lines (first non-blank character '#'),
// all-whitespace lines and empty lines are dropped, also inside a logical line: they
// neither end it nor add to it. Continuation lines are joined without their newline,
// their leading whitespace kept. A logical line that itself starts with whitespace (a
// continuation with nothing to continue) is skipped with the warning
//
//	FILE: logical line must not start with whitespace: "TEXT"
//
// where TEXT is cut to 30 bytes and followed by "..." when longer. A NUL byte in any
// physical line read for a logical line, comment lines included, makes Postfix 3.9 and
// later warn
//
//	FILE, line N: text after null byte may be ignored
//	FILE, line N-M: text after null byte may be ignored
//
// and every release ignores the text after it (callers cut it with [CStr]).
//
// # Log text: printable() (util/printable.c)
//
// Postfix's logger passes every message through printable(text, '?'): ASCII control
// characters become '?', and so do non-ASCII bytes, except (with SMTPUTF8 support
// on) those that form valid UTF-8. [Printable] does the same.
//
// # Braces: balpar() (util/balpar.c)
//
// Table names and policy attributes may be written as "{ text }" to protect
// whitespace. [Balpar] returns the length of the balanced group that starts a string.
package pfutil
