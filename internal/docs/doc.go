// Package docs holds the test that keeps the code's references to the specification true:
// every "§N.M" in a Go file must name a section of docs/postfix-semantics.md (or, when the
// text says "catalogue", of docs/failure-catalogue.md), every "§N.M item K" and "§9.K" a
// numbered rule or test vector that exists, and every catalogue code (B-1, E-4, ...) an
// entry of the failure catalogue.
package docs
