// Package maincf reads Postfix's main.cf and master.cf and expands parameter values
// exactly as Postfix does (global/mail_conf.c, util/dict.c, util/mac_expand.c,
// util/mac_parse.c, master/master_ent.c). It knows no parameter names and no
// defaults: the caller (package policy) supplies the per-version default table.
//
// # main.cf
//
// main.cf is read by dict_load_fp() one logical line at a time (util/readlline.c):
//
//   - A line whose first non-blank character is '#' is a comment; blank and
//     whitespace-only lines are ignored. Both may appear anywhere, also between the
//     lines of one multi-line entry. A '#' after other text is part of the value.
//   - A line that starts with whitespace continues the previous line. The newline is
//     removed and the leading whitespace is kept, so "a = b\n  c" gives "b  c".
//   - A logical line that starts with whitespace (continuation text before the first
//     entry) is skipped with `<file>: logical line must not start with whitespace: "..."`.
//   - Each logical line is `name = value` (split_nameval): the name ends at whitespace
//     or '='; whitespace around '=' and at the end of the value is removed; the value
//     may be empty and may contain '='. A line without '=' is fatal:
//     `<file>, line <n>: missing '=' after attribute name: "<line>"`.
//   - A name given again with a different value replaces the earlier one, with the
//     warning `<file>, line <n>: overriding earlier entry: <name>=<old value>`.
//   - A NUL byte ends the logical line for Postfix (3.9+ warns
//     `<file>, line <n>: text after null byte may be ignored`).
//
// Values are stored raw; $name references are expanded only when a value is used.
//
// # master.cf
//
// master.cf uses the same logical lines. Each entry has seven columns and a command:
//
//	service type  private unpriv  chroot  wakeup  maxproc command + args
//	smtp    unix  -       -       y       -       -       smtp
//	  -o smtp_tls_security_level=encrypt
//	  -o { smtp_tls_policy_maps = texthash:/etc/postfix/tls_policy }
//
// A service is identified by name and type (inet, unix, unix-dgram, fifo, pass); for a
// duplicate entry master(8) uses the last one. "-" selects a column's default; the type
// and command have none. inet services must have private = n. Command arguments are
// split on blanks, but text in {} stays together and loses its braces and surrounding
// blanks (3.0+), which allows "-o { name = value with spaces }". The daemon reads its
// options with getopt(): "-o name=value" (also "-oname=value" and clustered "-vo
// name=value") sets a parameter for that service only, "-n" renames the service, and
// options end at the first non-option argument or "--". A malformed -o value stops the
// daemon (`invalid "-o <arg>" option value: <reason>`); master(8) itself does not check it.
// Parse errors that stop master(8) use its words: `<file>: line <n>: <reason>`.
//
// # Layers
//
// A daemon sees, from lowest to highest precedence: built-in defaults, main.cf, its
// master.cf -o settings, then the read-only process_name and service_name. NewConfig
// stacks Layers in that order; a tool may add explicit overrides on top.
//
// # Expansion
//
// Expand implements mail_conf_eval(): $name references are replaced by the named
// value, and the replacement is expanded again (recursively). The grammar:
//
//	$name, ${name}, $(name)   the value of name; "" when undefined. A bare $name ends at
//	                          the first character outside [A-Za-z0-9_]
//	$$                        a literal $
//	${name?text}              text if name is non-empty, else ""
//	${name:text}              text if name is empty or undefined, else ""
//	${name?{text}}            the same with braces (3.0+); blanks around {text} ignored
//	${name:{text}}
//	${name?{a}:{b}}           a if name is non-empty, else b (3.0+)
//	${{x} op {y} ? {a} : {b}} relational expression (3.0+): op is ==, !=, <, <=, >, >=;
//	                          numeric if both sides are all digits, else byte-wise
//	${{x} op {y}}             "true" or ""
//	${{x} <level {y} ...}     ==level, !=level, <level, <=level, >level, >=level compare
//	                          compatibility levels (3.6+), as in the 3.6 default
//	                          smtp_tls_fingerprint_digest =
//	                          ${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}
//	${domain_to_ascii{text}}  IDNA conversions (3.11+); also domain_to_utf8
//
// Without braces the text after ? or : runs to the end, so ${x?a:b} yields "a:b"
// (Postfix 2.11 compatibility). From 3.3 blanks may surround the name: ${ name }.
// Conditional text and operands are themselves expanded. Features selects the
// grammar of an older release.
//
// Errors are Postfix's warnings followed by "macro processing error", which is fatal
// for Postfix: for example `truncated macro reference: "${x"`, `empty macro name:
// "$"`, `attribute name syntax error at: "...x>>>-y"`. More than 100 nested
// references (usually a loop such as a = $b, b = $a) give `unreasonable macro call
// nesting: "<name>"`. Because the input may be hostile, Limits also bound output size,
// work and nesting through relational operands, where Postfix would crash or run out
// of memory; those failures match ErrLimit.
//
// # Checks
//
// Config.Check reproduces postconf's warnings `<dir>/main.cf: undefined parameter:
// <name>` (a $name with neither a value nor a default) and `<dir>/main.cf: unused
// parameter: <name>=<value>` (a name that is neither built in nor referenced).
package maincf
