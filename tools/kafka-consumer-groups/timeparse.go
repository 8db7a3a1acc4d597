package main

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// dateTime matches what Kafka's Utils.getDateTime accepts with
// SimpleDateFormat ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", then "...SSSX", not
// lenient): numbers of any length, and a zone that is Z, ±HH:MM or ±HH.
// As with SimpleDateFormat.parse, text after the zone is ignored.
var dateTime = regexp.MustCompile(`^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)(Z|[+-]\d\d:\d\d|[+-]\d\d)`)

// parseDateTime is Utils.getDateTime: the epoch milliseconds of s, UTC when
// s has no zone. Its errors carry the text of Java's ParseException.
func parseDateTime(s string) (int64, error) {
	parts := javaSplit(s, "T")
	if len(parts) < 2 {
		return 0, cli.Messagef("java.text.ParseException: Error parsing timestamp. It does not contain a 'T' according to ISO8601 format")
	}
	if !strings.ContainsAny(parts[1], "+-Z") {
		s += "Z"
	}
	bad := cli.Messagef("java.text.ParseException: Unparseable date: \"%s\"", s)
	m := dateTime.FindStringSubmatch(s)
	if m == nil {
		return 0, bad
	}
	var n [7]int
	for i := range n {
		v, err := strconv.Atoi(m[i+1])
		if err != nil {
			return 0, bad
		}
		n[i] = v
	}
	year, month, day, hour, minute, second, milli := n[0], n[1], n[2], n[3], n[4], n[5], n[6]
	if year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59 || milli > 999 ||
		day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return 0, bad
	}
	offset := 0
	if zone := m[8]; zone != "Z" {
		h, _ := strconv.Atoi(zone[1:3])
		mins := 0
		if len(zone) == 6 {
			mins, _ = strconv.Atoi(zone[4:6])
		}
		if h > 23 || mins > 59 {
			return 0, bad
		}
		offset = h*3600 + mins*60
		if zone[0] == '-' {
			offset = -offset
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, milli*int(time.Millisecond), time.FixedZone("", offset))
	return t.UnixMilli(), nil
}

// isoDuration is the grammar of java.time.Duration.parse.
var isoDuration = regexp.MustCompile(`(?i)^([-+]?)P(?:([-+]?[0-9]+)D)?(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?$`)

// parseDuration is java.time.Duration.parse ("PnDTnHnMn.nS").
func parseDuration(s string) (time.Duration, error) {
	bad := cli.Messagef("Text cannot be parsed to a Duration")
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || (m[2] == "" && m[3] == "") || strings.EqualFold(m[3], "T") {
		return 0, bad
	}
	num := func(v string) int64 {
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	total := time.Duration(num(m[2]))*24*time.Hour + time.Duration(num(m[4]))*time.Hour +
		time.Duration(num(m[5]))*time.Minute + time.Duration(num(m[6]))*time.Second
	if frac := m[7]; frac != "" {
		nanos := num((frac + "000000000")[:9])
		if strings.HasPrefix(m[6], "-") {
			nanos = -nanos
		}
		total += time.Duration(nanos)
	}
	if m[1] == "-" {
		total = -total
	}
	return total, nil
}
