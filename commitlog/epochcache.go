package commitlog

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// EpochEntry says that leader epoch Epoch started at StartOffset.
type EpochEntry struct {
	Epoch       model.LeaderEpoch
	StartOffset model.Offset
}

// EpochCache is the leader-epoch cache of a partition, persisted to
// leader-epoch-checkpoint after every change. Entries strictly increase in
// both epoch and start offset. Not goroutine-safe: the Log's lock guards it.
type EpochCache struct {
	fs      segment.FS
	path    string
	entries []EpochEntry
	log     zerolog.Logger
}

// LoadEpochCache reads dir/leader-epoch-checkpoint (missing = empty). Each
// entry goes through the same rule as Assign, as Kafka loads it.
func LoadEpochCache(fs segment.FS, dir string, log zerolog.Logger) (*EpochCache, error) {
	c := &EpochCache{fs: fs, path: filepath.Join(dir, LeaderEpochCheckpoint), log: log}
	lines, err := parseCheckpoint(c.path, 2)
	if err != nil {
		return nil, err
	}
	for _, f := range lines {
		e, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || e < 0 || o < 0 {
			return nil, fmt.Errorf("malformed line in checkpoint file [%s]: %q", c.path, f)
		}
		c.assign(EpochEntry{Epoch: model.LeaderEpoch(e), StartOffset: model.Offset(o)})
	}
	return c, nil
}

// Entries returns a copy of the entries, oldest first.
func (c *EpochCache) Entries() []EpochEntry { return append([]EpochEntry(nil), c.entries...) }

// Latest is the newest entry; ok is false when the cache is empty.
func (c *EpochCache) Latest() (EpochEntry, bool) {
	if len(c.entries) == 0 {
		return EpochEntry{}, false
	}
	return c.entries[len(c.entries)-1], true
}

// Assign records that epoch started at startOffset. It is a no-op when the
// newest entry has the same epoch and a start offset <= startOffset; entries
// that would break monotonicity (epoch >= epoch, or start >= startOffset)
// are removed from the end first. Negative values are ignored.
func (c *EpochCache) Assign(epoch model.LeaderEpoch, startOffset model.Offset) error {
	if epoch < 0 || startOffset < 0 {
		return nil
	}
	if !c.assign(EpochEntry{Epoch: epoch, StartOffset: startOffset}) {
		return nil
	}
	return c.write()
}

func (c *EpochCache) assign(e EpochEntry) bool {
	if l, ok := c.Latest(); ok && l.Epoch == e.Epoch && e.StartOffset >= l.StartOffset {
		return false
	}
	n := len(c.entries)
	for n > 0 && (c.entries[n-1].Epoch >= e.Epoch || c.entries[n-1].StartOffset >= e.StartOffset) {
		n--
	}
	if removed := c.entries[n:]; len(removed) > 1 || (len(removed) == 1 && removed[0].StartOffset != e.StartOffset) {
		c.log.Warn().Interface("new", e).Interface("removed", append([]EpochEntry(nil), removed...)).
			Msg("new epoch entry caused truncation of conflicting entries")
	}
	c.entries = append(c.entries[:n], e)
	return true
}

// TruncateFromEnd removes the entries starting at or after endOffset (the
// log was truncated to endOffset).
func (c *EpochCache) TruncateFromEnd(endOffset model.Offset) error {
	n := len(c.entries)
	for n > 0 && c.entries[n-1].StartOffset >= endOffset {
		n--
	}
	if n == len(c.entries) {
		return nil
	}
	c.entries = c.entries[:n]
	return c.write()
}

// TruncateFromStart drops the entries that start at or before startOffset
// (the log start moved there), keeping the last of them with its start moved
// to startOffset.
func (c *EpochCache) TruncateFromStart(startOffset model.Offset) error {
	n := 0
	for n < len(c.entries) && c.entries[n].StartOffset <= startOffset {
		n++
	}
	if n == 0 {
		return nil
	}
	kept := EpochEntry{Epoch: c.entries[n-1].Epoch, StartOffset: startOffset}
	if n == 1 && c.entries[0] == kept {
		return nil
	}
	c.entries = append([]EpochEntry{kept}, c.entries[n:]...)
	return c.write()
}

// Clear empties the cache and its file.
func (c *EpochCache) Clear() error {
	c.entries = nil
	return c.write()
}

// EndOffsetFor answers OffsetForLeaderEpoch: the largest epoch <= requested
// that the cache knows and the start offset of the epoch after it (the log
// end offset when requested is the latest epoch). (-1, -1) when requested is
// -1 or newer than every known epoch.
func (c *EpochCache) EndOffsetFor(requested model.LeaderEpoch, logEndOffset model.Offset) (model.LeaderEpoch, model.Offset) {
	if requested == model.NoLeaderEpoch {
		return model.NoLeaderEpoch, model.NoOffset
	}
	if l, ok := c.Latest(); ok && l.Epoch == requested {
		return requested, logEndOffset
	}
	higher := -1
	for i, e := range c.entries {
		if e.Epoch > requested {
			higher = i
			break
		}
	}
	if higher < 0 {
		return model.NoLeaderEpoch, model.NoOffset
	}
	if higher == 0 {
		return requested, c.entries[0].StartOffset
	}
	return c.entries[higher-1].Epoch, c.entries[higher].StartOffset
}

// EpochForOffset is the epoch of the entry whose range holds offset.
func (c *EpochCache) EpochForOffset(offset model.Offset) (model.LeaderEpoch, bool) {
	for i := len(c.entries) - 1; i >= 0; i-- {
		if c.entries[i].StartOffset <= offset {
			return c.entries[i].Epoch, true
		}
	}
	return model.NoLeaderEpoch, false
}

func (c *EpochCache) write() error {
	lines := make([]string, len(c.entries))
	for i, e := range c.entries {
		lines[i] = fmt.Sprintf("%d %d", e.Epoch, e.StartOffset)
	}
	return WriteFileAtomic(c.fs, c.path, formatCheckpoint(lines))
}
