package openssl

// suites_table.go is generated from the installed OpenSSL's `openssl ciphers -V` output;
// internal/cmd/gensuites checks that the committed file is what the generator writes.
//go:generate go run github.com/postfixtls/postfixtls/internal/cmd/gensuites -pkg openssl -var suites -type Suite -o suites_table.go
