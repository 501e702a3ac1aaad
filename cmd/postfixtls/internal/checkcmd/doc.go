// Package checkcmd is the "postfixtls check" subcommand: flags, printing and exit codes
// around smtpclient.CheckBatch, smtpclient.Check and smtpclient.CheckOffline. See Usage and
// the README for what it does; the library packages do the work.
package checkcmd
