package logdir

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/segment"
)

// MetaPropertiesFile is the name of the file that binds a log directory to a
// cluster and a broker.
const MetaPropertiesFile = "meta.properties"

// MetaProperties is a ZooKeeper-mode meta.properties (version 0).
type MetaProperties struct {
	Version   int
	BrokerID  int32
	ClusterID string
	// Extra holds keys this version does not interpret (kept on rewrite).
	Extra map[string]string
}

// ReadMetaProperties reads dir/meta.properties; ok is false when it does not
// exist.
func ReadMetaProperties(dir string) (m MetaProperties, ok bool, err error) {
	path := filepath.Join(dir, MetaPropertiesFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	props := parseJavaProperties(data)
	m.Extra = map[string]string{}
	for k, v := range props {
		switch k {
		case "version":
			if m.Version, err = strconv.Atoi(v); err != nil {
				return m, false, fmt.Errorf("%s: invalid version %q", path, v)
			}
		case "broker.id":
			id, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return m, false, fmt.Errorf("%s: invalid broker.id %q", path, v)
			}
			m.BrokerID = int32(id)
		case "cluster.id":
			m.ClusterID = v
		default:
			m.Extra[k] = v
		}
	}
	if _, has := props["version"]; !has {
		return m, false, fmt.Errorf("%s: no version", path)
	}
	if m.Version != 0 {
		return m, false, fmt.Errorf("%s: version %d is not a ZooKeeper-mode meta.properties", path, m.Version)
	}
	if _, has := props["broker.id"]; !has {
		return m, false, fmt.Errorf("%s: no broker.id", path)
	}
	return m, true, nil
}

// WriteMetaProperties writes dir/meta.properties atomically in the layout
// Java's Properties.store gives Kafka: a "#" line, a "#<date>" line, then
// key=value lines in the order Java's hash table iterates them.
func WriteMetaProperties(fs segment.FS, dir string, m MetaProperties, now time.Time) error {
	props := map[string]string{
		"version":    strconv.Itoa(m.Version),
		"broker.id":  strconv.FormatInt(int64(m.BrokerID), 10),
		"cluster.id": m.ClusterID,
	}
	if m.ClusterID == "" {
		delete(props, "cluster.id")
	}
	for k, v := range m.Extra {
		props[k] = v
	}
	return commitlog.WriteFileAtomic(fs, filepath.Join(dir, MetaPropertiesFile), formatJavaProperties(props, now))
}

// formatJavaProperties renders properties as Properties.store(out, "") does.
func formatJavaProperties(props map[string]string, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString("#\n#")
	b.WriteString(now.Format("Mon Jan 02 15:04:05 MST 2006"))
	b.WriteByte('\n')
	for _, k := range javaHashOrder(props) {
		b.WriteString(escapeProperty(k, true))
		b.WriteByte('=')
		b.WriteString(escapeProperty(props[k], false))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// javaHashOrder sorts keys the way a java.util.Properties created with the
// default capacity iterates them: by bucket of its 16-slot concurrent hash
// table, (h ^ h>>>16) & 15 over String.hashCode; ties (rare) by name.
func javaHashOrder(props map[string]string) []string {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	bucket := func(s string) uint32 {
		var h int32
		for _, u := range utf16Units(s) {
			h = 31*h + int32(u)
		}
		x := uint32(h)
		return (x ^ x>>16) & 0x7fffffff & 15
	}
	sort.Slice(keys, func(i, j int) bool {
		bi, bj := bucket(keys[i]), bucket(keys[j])
		if bi != bj {
			return bi < bj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xd800+(r>>10)), uint16(0xdc00+(r&0x3ff)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

// escapeProperty applies the escaping of Properties.store(Writer, …), which
// Kafka 3.7+ uses: backslash, the separators and comment characters, tab,
// newline, carriage return, form feed and (in keys, or leading in values)
// spaces are escaped; other characters, non-ASCII included, are written as
// they are (UTF-8).
func escapeProperty(s string, isKey bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == ' ' && (isKey || i == 0):
			b.WriteString(`\ `)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '=' || r == ':' || r == '#' || r == '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseJavaProperties reads the Java properties text format: comments start
// with # or !, key and value are separated by '=', ':' or whitespace,
// backslash escapes and line continuations are honoured.
func parseJavaProperties(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	var logical strings.Builder
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t\f")
		if logical.Len() == 0 && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if trailingBackslashes(line)%2 == 1 {
			logical.WriteString(line[:len(line)-1])
			continue
		}
		logical.WriteString(line)
		k, v := splitProperty(logical.String())
		out[k] = v
		logical.Reset()
	}
	if logical.Len() > 0 {
		k, v := splitProperty(logical.String())
		out[k] = v
	}
	return out
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

func splitProperty(line string) (string, string) {
	i := 0
	for i < len(line) {
		c := line[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
		i++
	}
	key, rest := line[:min(i, len(line))], ""
	if i < len(line) {
		const ws = " \t\f"
		sepIsSpace := strings.IndexByte(ws, line[i]) >= 0
		rest = strings.TrimLeft(line[i:], ws)
		if !sepIsSpace {
			rest = rest[1:]
		} else if rest != "" && (rest[0] == '=' || rest[0] == ':') {
			rest = rest[1:]
		}
		rest = strings.TrimLeft(rest, ws)
	}
	return unescapeProperty(key), unescapeProperty(rest)
}

func unescapeProperty(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+5], 16, 16); err == nil {
					b.WriteRune(rune(v))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
