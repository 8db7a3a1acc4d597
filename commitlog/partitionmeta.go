package commitlog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// PartitionMetadataFile is the name of the file that binds a partition
// directory to its topic id.
const PartitionMetadataFile = "partition.metadata"

// WritePartitionMetadata writes "version: 0\ntopic_id: <id>" with no
// trailing newline, atomically.
func WritePartitionMetadata(fs segment.FS, dir string, id model.TopicID) error {
	data := fmt.Sprintf("version: 0\ntopic_id: %s", id)
	return WriteFileAtomic(fs, filepath.Join(dir, PartitionMetadataFile), []byte(data))
}

// ReadPartitionMetadata reads the topic id; ok is false when the file does
// not exist.
func ReadPartitionMetadata(dir string) (id model.TopicID, ok bool, err error) {
	path := filepath.Join(dir, PartitionMetadataFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return id, false, nil
	}
	if err != nil {
		return id, false, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) != 2 {
		return id, false, fmt.Errorf("malformed %s: expected 2 lines, found %d", path, len(lines))
	}
	version, ok1 := strings.CutPrefix(lines[0], "version: ")
	idText, ok2 := strings.CutPrefix(lines[1], "topic_id: ")
	if !ok1 || !ok2 {
		return id, false, fmt.Errorf("malformed %s", path)
	}
	if strings.TrimSpace(version) != "0" {
		return id, false, fmt.Errorf("unrecognised version %q in %s", version, path)
	}
	id, err = model.ParseTopicID(strings.TrimSpace(idText))
	if err != nil {
		return id, false, fmt.Errorf("%s: %w", path, err)
	}
	return id, true, nil
}
