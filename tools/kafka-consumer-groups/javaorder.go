package main

import (
	"sort"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// Kafka's tool prints several collections in the iteration order of
// java.util.HashMap / HashSet (rows of a described group, the groups of a
// reset plan, listed groups, deleted groups, option names in messages).
// javaHashMap records the insertions into such a map so that the same
// order can be produced: by bucket (the spread hash masked by the final
// table size), and by insertion order within a bucket (a resize splits a
// bucket without reordering it). Bins of eight or more colliding keys,
// which Java turns into trees, are not modelled.
type javaHashMap struct {
	capacity  int // 0 while Java's table is not allocated
	threshold int // the resize threshold, or the initial capacity while unallocated
	hashes    []int32
}

// newJavaHashMap is "new HashMap<>()" (also what Collectors.toMap and
// Collectors.toSet build).
func newJavaHashMap() *javaHashMap { return &javaHashMap{} }

// newJavaHashMapSized is "new HashMap<>(initialCapacity)".
func newJavaHashMapSized(initialCapacity int) *javaHashMap {
	return &javaHashMap{threshold: tableSizeFor(initialCapacity)}
}

// newJavaHashSetOf is "new HashSet<>(collection)" for a collection of n
// elements (their insertions follow with put).
func newJavaHashSetOf(n int) *javaHashMap {
	return newJavaHashMapSized(max(int(float32(n)/0.75)+1, 16))
}

// tableSizeFor is HashMap.tableSizeFor: the smallest power of two >= c.
func tableSizeFor(c int) int {
	n := 1
	for n < c {
		n <<= 1
	}
	return n
}

func (m *javaHashMap) resize() {
	switch {
	case m.capacity > 0:
		m.capacity <<= 1
	case m.threshold > 0:
		m.capacity = m.threshold
	default:
		m.capacity = 16
	}
	m.threshold = int(float32(m.capacity) * 0.75)
}

// put inserts a key that is not in the map yet.
func (m *javaHashMap) put(h int32) {
	if m.capacity == 0 {
		m.resize()
	}
	m.hashes = append(m.hashes, h)
	if len(m.hashes) > m.threshold {
		m.resize()
	}
}

// putAll is HashMap.putAll of a map of new keys: an unallocated table is
// sized for the incoming keys first.
func (m *javaHashMap) putAll(hs []int32) {
	if len(hs) == 0 {
		return
	}
	if m.capacity == 0 {
		if t := int(float32(len(hs))/0.75 + 1); t > m.threshold {
			m.threshold = tableSizeFor(t)
		}
	} else {
		for len(hs) > m.threshold {
			m.resize()
		}
	}
	for _, h := range hs {
		m.put(h)
	}
}

// order returns the insertion indexes in iteration order.
func (m *javaHashMap) order() []int {
	idx := make([]int, len(m.hashes))
	bucket := make([]uint32, len(m.hashes))
	for i, h := range m.hashes {
		idx[i] = i
		u := uint32(h)
		bucket[i] = (u ^ u>>16) & uint32(m.capacity-1)
	}
	sort.SliceStable(idx, func(a, b int) bool { return bucket[idx[a]] < bucket[idx[b]] })
	return idx
}

// tp is org.apache.kafka.common.TopicPartition.
type tp struct {
	topic     string
	partition int32
}

// String is TopicPartition.toString.
func (t tp) String() string { return t.topic + "-" + itoa(int64(t.partition)) }

// hash is TopicPartition.hashCode.
func (t tp) hash() int32 { return 31*(31+t.partition) + cli.JavaStringHash(t.topic) }

// hashMapOfTPs returns tps (distinct) in the order a HashMap built by
// inserting them one by one into m iterates them.
func hashMapOfTPs(m *javaHashMap, tps []tp) []tp {
	for _, t := range tps {
		m.put(t.hash())
	}
	return reorder(m, tps)
}

// hashMapOfStrings is hashMapOfTPs for string keys.
func hashMapOfStrings(m *javaHashMap, keys []string) []string {
	for _, k := range keys {
		m.put(cli.JavaStringHash(k))
	}
	return reorder(m, keys)
}

func reorder[T any](m *javaHashMap, keys []T) []T {
	out := make([]T, 0, len(keys))
	for _, i := range m.order() {
		out = append(out, keys[i])
	}
	return out
}

// optionSet returns joptsimple option names ("[name]") in the order of a
// HashSet of their OptionSpecs (an OptionSpec hashes as the list of its
// names), the way Kafka's tool prints such sets in its messages. It is
// "new HashSet<>(Arrays.asList(...))", copied again by ToolsUtils.minus.
func optionSet(names ...string) []string {
	m := newJavaHashSetOf(len(names))
	out := make([]string, len(names))
	for i, n := range names {
		m.put(31 + cli.JavaStringHash(n))
		out[i] = "[" + n + "]"
	}
	return reorder(m, out)
}

// dedupTPs drops repeated partitions, keeping the first.
func dedupTPs(tps []tp) []tp {
	seen := make(map[tp]bool, len(tps))
	out := tps[:0:0]
	for _, t := range tps {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// sortByPartition is a stable sort on the partition number, as
// Comparator.comparingInt(TopicPartition::partition).
func sortByPartition(tps []tp) []tp {
	out := append([]tp(nil), tps...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].partition < out[j].partition })
	return out
}
