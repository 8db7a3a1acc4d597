package coordshard

import "github.com/kbroker/kbroker/model"

// PartitionFor is the partition of a coordinator's internal topic
// (__consumer_offsets, __transaction_state) that holds key (a group id, a
// transactional id), out of n partitions: abs(hashCode(key)) % n, where abs
// maps the smallest int32 to 0 as Kafka's Utils.abs does.
func PartitionFor(key string, n int32) int32 {
	return model.JavaAbs(model.JavaStringHash(key)) % n
}

// PartitionOf is PartitionFor with the partition count from count, false
// while count does not know it (the topic does not exist yet).
func PartitionOf(key string, count func() (int32, bool)) (int32, bool) {
	n, ok := count()
	if !ok || n <= 0 {
		return 0, false
	}
	return PartitionFor(key, n), true
}
