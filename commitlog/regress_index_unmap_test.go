package commitlog_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/internal/faultfs"
	"github.com/kbroker/kbroker/record"
)

// A failed ftruncate of an index file (here while the roll trims the time
// index) leaves the index unmapped but still counting its entries
// (segment/index.go setLength: unmap, then Truncate fails, mm stays nil).
// The log correctly goes offline, but closing it afterwards (broker
// shutdown) reads the time index's last entry through the nil mapping and
// panics, instead of returning the storage error.
func TestRegressionCloseAfterFailedIndexTrimDoesNotPanic(t *testing.T) {
	fs := faultfs.New()
	cfg := commitlog.DefaultConfig()
	cfg.IndexIntervalBytes = 1
	l, _ := ftOpen(t, cfg, fs)
	for i := 0; i < 4; i++ {
		if _, err := l.AppendAsLeader(rtBatch(t, i, 50), 0, record.FromClient); err != nil {
			t.Fatal(err)
		}
	}
	fs.Fail(faultfs.Truncate, ".timeindex", syscall.EIO)
	if err := l.Roll(); err == nil {
		t.Fatal("roll with a failing ftruncate of the time index succeeded")
	}
	var closeErr error
	panicked := func() (p any) {
		defer func() { p = recover() }()
		closeErr = l.Close()
		return nil
	}()
	if panicked != nil {
		t.Fatalf("Close after a failed index trim panicked: %v", fmt.Sprint(panicked))
	}
	_ = closeErr
}
