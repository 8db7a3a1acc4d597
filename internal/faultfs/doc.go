// Package faultfs is a file system for tests that fails chosen operations:
// writes, fsyncs, truncates or renames of files whose path contains a given
// string fail with a given error (ENOSPC, EIO, …) once armed. It wraps the
// real file system, so everything else behaves as on disk.
//
// It may import anything (internal test support); production code never
// imports it. FS is goroutine-safe.
package faultfs
