package group

import (
	"testing"

	"github.com/kbroker/kbroker/model"
)

func TestPartitionFor(t *testing.T) {
	cases := []struct {
		group string
		n     int32
		hash  int32 // Java's "…".hashCode()
		want  int32
	}{
		{"", 50, 0, 0},
		{"a", 50, 97, 47},
		{"hello", 50, 99162322, 22},
		// hashCode is Integer.MIN_VALUE: Utils.abs gives 0, not an overflow.
		{"polygenelubricants", 50, -1 << 31, 0},
		// Negative hash: the absolute value is taken before the modulo.
		{"my-group", 50, -1906497762, 12},
		// U+1F600 is two UTF-16 units, D83D DE00: 0xD83D*31 + 0xDE00.
		{"\U0001F600", 50, 1772899, 1772899 % 50},
		// U+00E9 is one unit.
		{"é", 7, 0xE9, 0xE9 % 7},
	}
	for _, c := range cases {
		if got := model.JavaStringHash(c.group); got != c.hash {
			t.Errorf("hashCode(%q) = %d, want %d", c.group, got, c.hash)
		}
		if got := PartitionFor(c.group, c.n); got != c.want {
			t.Errorf("PartitionFor(%q, %d) = %d, want %d", c.group, c.n, got, c.want)
		}
	}
}
