package kfaketest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Cluster starts a kfake cluster of three brokers (plus opts), closes it when
// the test ends, and returns it with its bootstrap list.
func Cluster(t testing.TB, opts ...kfake.Opt) (*kfake.Cluster, string) {
	t.Helper()
	all := append([]kfake.Opt{kfake.NumBrokers(3)}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c, strings.Join(c.ListenAddrs(), ",")
}

// Client returns a kgo client for the cluster, closed when the test ends.
func Client(t testing.TB, bootstrap string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(bootstrap, ",")...)}, opts...)...)
	if err != nil {
		t.Fatalf("kgo: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// RunFunc is the signature of every tool's run function.
type RunFunc func(args []string, stdin io.Reader, stdout, stderr io.Writer) int

// Result is what one run printed and returned.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs fn with args and stdin, failing the test if it takes longer than a
// minute.
func Run(t testing.TB, fn RunFunc, stdin string, args ...string) Result {
	t.Helper()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- fn(args, strings.NewReader(stdin), &out, &errb) }()
	select {
	case code := <-done:
		return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
	case <-time.After(time.Minute):
		t.Fatalf("run %q did not finish within a minute", args)
		return Result{}
	}
}

// Produce writes records synchronously and fails the test on error.
func Produce(t testing.TB, cl *kgo.Client, rs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}
