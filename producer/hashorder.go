package producer

// hashTable follows the shape of a java.util.HashMap<Long, _> as keys are
// inserted and removed, to reproduce its iteration order: by bucket
// (spread hash & (capacity-1)), then by insertion order within a bucket.
// The table starts at 16 buckets on the first insertion, doubles when the
// size passes 3/4 of the capacity, and also when a ninth key lands in one
// bucket of a table smaller than 64 (treeifyBin resizes instead); it never
// shrinks. Tree bins (nine keys in one bucket of a larger table) order
// their keys differently; that is not reproduced.
type hashTable struct {
	capacity int // 0 until the first insertion
	size     int
	next     uint64 // insertion counter
	// keys and counts (keys per bucket) are kept while capacity < 64, the
	// only time a crowded bucket makes the table grow.
	keys   map[int64]struct{}
	counts map[int32]int
}

// insert records a new key and returns its insertion rank.
func (t *hashTable) insert(key int64) uint64 {
	if t.capacity == 0 {
		t.capacity = 16
		t.keys, t.counts = map[int64]struct{}{}, map[int32]int{}
	}
	t.size++
	if t.keys != nil {
		t.keys[key] = struct{}{}
		b := t.bucket(key)
		t.counts[b]++
		if t.counts[b] > 8 {
			t.resize()
		}
	}
	if t.size > t.capacity/4*3 {
		t.resize()
	}
	t.next++
	return t.next - 1
}

func (t *hashTable) remove(key int64) {
	t.size--
	if t.keys != nil {
		delete(t.keys, key)
		t.counts[t.bucket(key)]--
	}
}

// clear empties the table; its capacity stays.
func (t *hashTable) clear() {
	t.size = 0
	clear(t.keys)
	clear(t.counts)
}

func (t *hashTable) resize() {
	t.capacity *= 2
	if t.capacity >= 64 {
		t.keys, t.counts = nil, nil
		return
	}
	clear(t.counts)
	for k := range t.keys {
		t.counts[t.bucket(k)]++
	}
}

func (t *hashTable) bucket(key int64) int32 { return javaHash(key) & int32(t.capacity-1) }

// less orders two keys as the map iterates them.
func (t *hashTable) less(a int64, insA uint64, b int64, insB uint64) bool {
	if t.capacity > 0 {
		if ba, bb := t.bucket(a), t.bucket(b); ba != bb {
			return ba < bb
		}
	}
	return insA < insB
}

// javaHash is HashMap.hash(Long.valueOf(v)): Long.hashCode spread by its
// high 16 bits.
func javaHash(v int64) int32 {
	h := uint32(uint64(v) ^ uint64(v)>>32)
	return int32(h ^ h>>16)
}
