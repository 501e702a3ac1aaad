package smtpclient

// suites_table.go is generated from the installed OpenSSL's `openssl ciphers -V` output;
// internal/cmd/gensuites checks that the committed file is what the generator writes.
//go:generate go run github.com/postfixtls/postfixtls/internal/cmd/gensuites -pkg smtpclient -var opensslSuites -type osslSuite -o suites_table.go
