package cli

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Props are Kafka client or reader/formatter properties: a key → value map
// that remembers nothing about order (Java's Properties does not either).
type Props map[string]string

// Clone returns a copy.
func (p Props) Clone() Props {
	c := make(Props, len(p))
	for k, v := range p {
		c[k] = v
	}
	return c
}

// Take returns the value of key and removes it, so that what is left at the
// end is what nobody used.
func (p Props) Take(key string) (string, bool) {
	v, ok := p[key]
	delete(p, key)
	return v, ok
}

// Merge copies every entry of q into p, q winning.
func (p Props) Merge(q Props) {
	for k, v := range q {
		p[k] = v
	}
}

// ParseKeyValueArgs is CommandLineUtils.parseKeyValueArgs: every argument is
// "key=value", split at the first '='; "key" and "key=" give an empty value.
func ParseKeyValueArgs(args []string) Props {
	p := Props{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		p[k] = v
	}
	return p
}

// LoadProps reads a Java .properties file as Utils.loadProps does. A missing
// or unreadable file fails with the message of Java's FileNotFoundException.
func LoadProps(path string) (Props, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, Messagef("%s (No such file or directory)", path)
		case errors.Is(err, fs.ErrPermission):
			return nil, Messagef("%s (Permission denied)", path)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, Messagef("%s (%s)", path, pe.Err)
		}
		return nil, err
	}
	return ParseProperties(string(data)), nil
}

// ParseProperties parses the text of a .properties file with
// java.util.Properties.load's rules: '#' and '!' comment lines, a key ended
// by an unescaped '=', ':' or whitespace, lines continued by an odd number of
// trailing backslashes, and the escapes \t \n \r \f \uXXXX (any other
// escaped character stands for itself).
func ParseProperties(text string) Props {
	p := Props{}
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for continued(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if continued(line) {
			line = line[:len(line)-1]
		}
		k, v := splitProperty(line)
		p[unescapeProperty(k)] = unescapeProperty(v)
	}
	return p
}

// continued reports whether line ends with an odd number of backslashes.
func continued(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (key, value string) {
	end := len(line)
	sepIsSpace := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' {
			end = i
			break
		}
		if c == ' ' || c == '\t' || c == '\f' {
			end = i
			sepIsSpace = true
			break
		}
	}
	key = line[:end]
	if end == len(line) {
		return key, ""
	}
	rest := line[end+1:]
	if sepIsSpace {
		rest = strings.TrimLeft(rest, " \t\f")
		if rest != "" && (rest[0] == '=' || rest[0] == ':') {
			rest = rest[1:]
		}
	}
	return key, strings.TrimLeft(rest, " \t\f")
}

func unescapeProperty(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
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
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 16); err == nil {
					b.WriteRune(rune(r))
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
