// Package readme holds the test that keeps the repository's README true: every command it
// shows is run, and the output it quotes must appear in what the command prints.
package readme
