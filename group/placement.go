package group

import "github.com/kbroker/kbroker/coordshard"

// OffsetsTopic is the internal topic holding committed offsets and group
// metadata.
const OffsetsTopic = "__consumer_offsets"

// PartitionFor is the __consumer_offsets partition that holds a group, out
// of n partitions: abs(hashCode(groupID)) % n, where abs maps the smallest
// int32 to 0 as Kafka's Utils.abs does. The coordinator of the group is
// the leader of that partition.
func PartitionFor(groupID string, n int32) int32 {
	return coordshard.PartitionFor(groupID, n)
}
