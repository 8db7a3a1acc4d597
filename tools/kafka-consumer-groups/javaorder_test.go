package main

import (
	"strings"
	"testing"
)

func TestJavaHashMapOrder(t *testing.T) {
	// What Java prints for maps built by put in these orders.
	for _, tc := range []struct{ in, want string }{
		{"apple banana cherry", "banana apple cherry"},
		{"one two three four", "four one two three"},
	} {
		if got := strings.Join(hashMapOfStrings(newJavaHashMap(), strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
	// TopicPartition hashes: 31*(31+partition) + topic.hashCode().
	if h := (tp{"t", 0}).hash(); h != 961+116 {
		t.Errorf("hash(t-0) = %d", h)
	}
	var got []string
	for _, x := range hashMapOfTPs(newJavaHashMap(), []tp{{"t", 0}, {"t", 1}, {"t", 2}}) {
		got = append(got, x.String())
	}
	if strings.Join(got, ",") != "t-2,t-1,t-0" {
		t.Errorf("t-0..2: %v", got)
	}
	// Growth: 13 keys need a table of 32, putAll into an empty map sizes
	// it for the incoming keys (3 keys: 8 buckets).
	m := newJavaHashMap()
	for i := range 13 {
		m.put(int32(i))
	}
	if m.capacity != 32 {
		t.Errorf("13 puts: capacity %d", m.capacity)
	}
	m = newJavaHashMap()
	m.putAll([]int32{1, 2, 3})
	if m.capacity != 8 {
		t.Errorf("putAll of 3: capacity %d", m.capacity)
	}
	if s := newJavaHashSetOf(30); s.threshold != 64 {
		t.Errorf("HashSet of 30: initial capacity %d", s.threshold)
	}
	// Colliding buckets keep insertion order: 16 and 0 share bucket 0 of 16.
	m = newJavaHashMap()
	for _, h := range []int32{16, 1, 0} {
		m.put(h)
	}
	if o := m.order(); o[0] != 0 || o[1] != 2 || o[2] != 1 {
		t.Errorf("collisions: %v", o)
	}
	// Option sets as Kafka's messages print them.
	if s := strings.Join(optionSet("group", "all-groups"), ", "); s != "[all-groups], [group]" {
		t.Errorf("group selection: %s", s)
	}
	if s := strings.Join(optionSet("group", "topic"), ", "); s != "[topic], [group]" {
		t.Errorf("delete-offsets: %s", s)
	}
}

func TestTable(t *testing.T) {
	if got := row([]int{5, 3}, "ab", "c", "last"); got != "ab    c   last" {
		t.Errorf("row: %q", got)
	}
	if got := row([]int{2}, "wide", "x"); got != "wide x" {
		t.Errorf("overflow: %q", got)
	}
	if jlen("é😀") != 3 || widest(2, "abc", "é") != 3 {
		t.Error("jlen/widest")
	}
	if got := javaSplit("a:b:", ":"); len(got) != 2 || javaSplit("", ":")[0] != "" || len(javaSplit(":", ":")) != 0 {
		t.Errorf("javaSplit: %q", got)
	}
}
