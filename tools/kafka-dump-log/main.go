package main

import (
	"bufio"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole tool: it parses args, dumps every file to stdout, prints
// the summaries to stderr and returns the process exit status (0 on success,
// 1 after usage or an error, as Kafka's tool exits).
func run(args []string, stdout, stderr io.Writer) int {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	d := &dumper{out: out, errw: stderr}
	return d.main(args)
}
