package main

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// filePlan is --from-file for one group: the offsets the CSV file (as
// --export writes it) gives for the group, kept within each partition's
// range. A file without the group is Kafka's "No reset plan for group ...
// found" error line and no offsets.
func (c *command) filePlan(group string) (*plan, error) {
	path, _, err := c.o.Value("from-file")
	if err != nil {
		return nil, asUsage(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, cli.Messagef("java.nio.file.NoSuchFileException: %s", path)
		}
		return nil, cli.Messagef("java.io.IOException: %s", path)
	}
	all, err := parseResetPlan(string(data), c.o.Values("group"))
	if err != nil {
		return nil, err
	}
	entries, ok := all[group]
	if !ok {
		c.printError("No reset plan for group " + group + " found")
		return newPlan(group, nil, nil), nil
	}
	requested := map[tp]int64{}
	var tps []tp
	for _, e := range entries {
		if _, dup := requested[e.tp]; !dup {
			tps = append(tps, e.tp)
		}
		requested[e.tp] = e.offset
	}
	// The plan of a group is a HashMap; its key set is what is checked.
	return c.checkedPlan(group, hashMapOfTPs(newJavaHashMap(), tps), requested)
}

type planEntry struct {
	tp     tp
	offset int64
}

// parseResetPlan reads the CSV of a reset plan. With exactly one --group
// and three columns on the first line, every line is
// "topic,partition,offset" for that group; otherwise every line is
// "group,topic,partition,offset".
func parseResetPlan(text string, groups []string) (map[string][]planEntry, error) {
	var lines []string
	for _, l := range javaSplit(text, "\n") {
		if l = strings.TrimSuffix(l, "\r"); l != "" {
			lines = append(lines, l)
		}
	}
	out := map[string][]planEntry{}
	old := len(lines) > 0 && validFields(splitCSV(lines[0]), false)
	for _, l := range lines {
		f := splitCSV(l)
		if len(groups) == 1 && old {
			if !validFields(f, false) {
				return nil, cli.Messagef("Invalid reset plan line '%s': expected topic,partition,offset", l)
			}
			out[groups[0]] = append(out[groups[0]], entry(f))
			continue
		}
		if !validFields(f, true) {
			return nil, cli.Messagef("Invalid reset plan line '%s': expected group,topic,partition,offset", l)
		}
		out[f[0]] = append(out[f[0]], entry(f[1:]))
	}
	return out, nil
}

// validFields checks a line's fields: [group,] topic, partition (int),
// offset (long).
func validFields(f []string, withGroup bool) bool {
	if withGroup {
		if len(f) != 4 {
			return false
		}
		f = f[1:]
	}
	if len(f) != 3 {
		return false
	}
	if _, err := strconv.ParseInt(f[1], 10, 32); err != nil {
		return false
	}
	_, err := strconv.ParseInt(f[2], 10, 64)
	return err == nil
}

func entry(f []string) planEntry {
	p, _ := strconv.ParseInt(f[1], 10, 32)
	o, _ := strconv.ParseInt(f[2], 10, 64)
	return planEntry{tp{f[0], int32(p)}, o}
}

// splitCSV splits one CSV line, honouring double quotes.
func splitCSV(line string) []string {
	var fields []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quoted && ch == '"' && i+1 < len(line) && line[i+1] == '"':
			b.WriteByte('"')
			i++
		case ch == '"':
			quoted = !quoted
		case ch == ',' && !quoted:
			fields = append(fields, b.String())
			b.Reset()
		default:
			b.WriteByte(ch)
		}
	}
	return append(fields, b.String())
}
