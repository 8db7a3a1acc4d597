package commitlog

import (
	"strconv"
	"strings"

	"github.com/kbroker/kbroker/model"
)

// Suffixes of partition directories that are not live logs.
const (
	DeleteDirSuffix = "-delete" // <topic>-<p>.<uuid>-delete: awaiting removal
	FutureDirSuffix = "-future" // <topic>-<p>.<uuid>-future: target of a log dir move
	StrayDirSuffix  = "-stray"
)

// DirName is the partition directory name: <topic>-<partition>.
func DirName(tp model.TopicPartition) string { return tp.String() }

// ParseDirName reads a live partition directory name. Directories with the
// -delete, -future or -stray suffixes, and names that are not
// <topic>-<partition>, are not live logs (ok = false).
func ParseDirName(name string) (tp model.TopicPartition, ok bool) {
	if strings.HasSuffix(name, DeleteDirSuffix) || strings.HasSuffix(name, FutureDirSuffix) || strings.HasSuffix(name, StrayDirSuffix) {
		return tp, false
	}
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || i == len(name)-1 {
		return tp, false
	}
	// Kafka reads the number with Java's Integer.parseInt, which also takes
	// leading zeros and a '+' sign.
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 {
		return tp, false
	}
	return model.TopicPartition{Topic: name[:i], Partition: int32(p)}, true
}
