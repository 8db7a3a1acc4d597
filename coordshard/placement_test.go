package coordshard

import "testing"

func TestPartitionFor(t *testing.T) {
	cases := []struct {
		key  string
		n    int32
		want int32
	}{
		{"", 50, 0},
		{"a", 50, 47},                 // hashCode 97
		{"my-group", 50, 12},          // hashCode -1906497762: abs before the modulo
		{"polygenelubricants", 50, 0}, // hashCode Integer.MIN_VALUE: Utils.abs gives 0
	}
	for _, c := range cases {
		if got := PartitionFor(c.key, c.n); got != c.want {
			t.Errorf("PartitionFor(%q, %d) = %d, want %d", c.key, c.n, got, c.want)
		}
	}
}

func TestPartitionOf(t *testing.T) {
	if p, ok := PartitionOf("a", func() (int32, bool) { return 50, true }); !ok || p != 47 {
		t.Fatalf("PartitionOf with 50 partitions = %d, %v; want 47, true", p, ok)
	}
	for _, count := range []func() (int32, bool){
		func() (int32, bool) { return 0, false },
		func() (int32, bool) { return 0, true },
		func() (int32, bool) { return -1, true },
	} {
		if _, ok := PartitionOf("a", count); ok {
			t.Fatal("PartitionOf answered without a known, positive partition count")
		}
	}
}
