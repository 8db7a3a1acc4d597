package commitlog_test

import (
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/record"
)

// Creating a segment adds directory entries (.log, .index, .timeindex) that
// are durable only once the partition directory is fsynced. Kafka's
// LocalLog.flush fsyncs the directory whenever it flushes a segment whose
// base offset is >= the recovery point (a segment created since the last
// flush). kbroker never fsyncs the partition directory when flushing, so the
// recovery point moves past a rolled segment (and, after FlushAll, past
// data in it) whose file may vanish in a power failure.
func TestRegressionFlushSyncsPartitionDirAfterRoll(t *testing.T) {
	fs := newSyncCountFS()
	tl := newTestLogFS(t, commitlog.DefaultConfig(), fs)
	l := tl.log
	if _, err := l.AppendAsLeader(clientBatch(t, recs(5, baseTime)), 0, record.FromClient); err != nil {
		t.Fatal(err)
	}
	before := fs.Syncs("foo-0") // the leader-epoch checkpoint write fsyncs the directory once
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the post-roll flush", func() bool { return l.RecoveryPoint() == 5 })
	if _, err := l.AppendAsLeader(clientBatch(t, recs(5, baseTime)), 0, record.FromClient); err != nil {
		t.Fatal(err)
	}
	if err := l.FlushAll(); err != nil {
		t.Fatal(err)
	}
	if l.RecoveryPoint() != 10 {
		t.Fatalf("recovery point %d, want 10", l.RecoveryPoint())
	}
	if got := fs.Syncs("foo-0"); got == before {
		t.Fatalf("recovery point is 10 and segment 5 holds offsets 5..9, but the partition directory was never fsynced after %s was created", segName(5, ".log"))
	}
}
