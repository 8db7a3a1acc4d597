package main

import (
	"strconv"
	"strings"
)

// Kafka's tool lays its tables out with Java format strings such as
// "%-15s %-10s %s": every column but the last left-aligned and padded to a
// width, which for some columns is the longest value (at least a minimum),
// and one space between columns. Widths count UTF-16 units, as Java's
// String.length does.

// jlen is String.length().
func jlen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// widest returns the larger of min and the length of the longest value.
func widest(min int, values ...string) int {
	for _, v := range values {
		min = max(min, jlen(v))
	}
	return min
}

// row formats cells as "%-w0s %-w1s ... %s": cell i padded to widths[i];
// a cell without a width (past the end of widths) is printed as it is.
func row(widths []int, cells ...string) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c)
		if i < len(widths) {
			if pad := widths[i] - jlen(c); pad > 0 {
				b.WriteString(strings.Repeat(" ", pad))
			}
		}
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
