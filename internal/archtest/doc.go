// Package archtest holds the test that enforces the import rules of
// docs/ARCHITECTURE.md (the rooms of the design and what each may import).
// It has no production code.
package archtest
