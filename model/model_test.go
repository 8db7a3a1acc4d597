package model

import (
	"slices"
	"testing"
)

func TestSortTopicPartitions(t *testing.T) {
	tps := []TopicPartition{{"b", 0}, {"a", 10}, {"a", 2}, {"ab", 0}, {"a", -1}}
	SortTopicPartitions(tps)
	want := []TopicPartition{{"a", -1}, {"a", 2}, {"a", 10}, {"ab", 0}, {"b", 0}}
	if !slices.Equal(tps, want) {
		t.Fatalf("sorted %v, want %v", tps, want)
	}
}
