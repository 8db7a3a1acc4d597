package main

// Small emulations of the Java behaviour that shows in the tool's output:
// how java.io.File names a path, how String.split and Long.parseLong behave,
// how the JVM reports an uncaught exception, and how a byte array becomes a
// String (UTF-8 with replacement).

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jfile is a path as java.io.File holds it: duplicate and trailing slashes
// removed, "." and ".." kept. String() is what Kafka prints for a File.
type jfile struct{ path string }

func newJFile(p string) jfile {
	var b strings.Builder
	prevSlash := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' {
			if prevSlash {
				continue
			}
			prevSlash = true
		} else {
			prevSlash = false
		}
		b.WriteByte(c)
	}
	s := b.String()
	if len(s) > 1 && strings.HasSuffix(s, "/") {
		s = s[:len(s)-1]
	}
	return jfile{path: s}
}

func (f jfile) String() string { return f.path }

// Name is File.getName: the part after the last slash.
func (f jfile) Name() string { return f.path[strings.LastIndexByte(f.path, '/')+1:] }

// Abs is File.getAbsolutePath: the path itself when absolute, else the
// working directory, a slash and the path (no cleaning).
func (f jfile) Abs() string {
	if strings.HasPrefix(f.path, "/") {
		return f.path
	}
	wd, err := os.Getwd()
	if err != nil {
		wd = "."
	}
	if f.path == "" {
		return wd
	}
	if strings.HasSuffix(wd, "/") {
		return wd + f.path
	}
	return wd + "/" + f.path
}

// sibling is new File(file.getAbsoluteFile.getParent, name).
func (f jfile) sibling(name string) jfile {
	abs := f.Abs()
	parent := abs[:strings.LastIndexByte(abs, '/')]
	if parent == "" {
		parent = "/"
	}
	if strings.HasSuffix(parent, "/") {
		return newJFile(parent + name)
	}
	return newJFile(parent + "/" + name)
}

// javaSplit is String.split with a literal one-character separator: trailing
// empty strings are removed, except that an empty input gives [""].
func javaSplit(s string, sep string) []string {
	if s == "" {
		return []string{""}
	}
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseLong is Long.parseLong.
func parseLong(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, jerr("java.lang.NumberFormatException", "For input string: \"%s\"", s)
	}
	return v, nil
}

// parseInt is Integer.parseInt.
func parseInt(s string) (int32, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, jerr("java.lang.NumberFormatException", "For input string: \"%s\"", s)
	}
	return int32(v), nil
}

// javaError is an exception Kafka's tool would not catch: the JVM prints
// `Exception in thread "main" <class>: <message>` and exits 1.
type javaError struct {
	class string
	msg   string
	noMsg bool // getMessage() is null: the JVM prints the class alone
}

func (e *javaError) Error() string {
	if e.noMsg {
		return e.class
	}
	return e.class + ": " + e.msg
}

func jerr(class, format string, args ...any) *javaError {
	return &javaError{class: class, msg: fmt.Sprintf(format, args...)}
}

func jerrNoMsg(class string) *javaError { return &javaError{class: class, noMsg: true} }

// ioErr turns an error of the os package into the exception Java's NIO
// would raise for the same path.
func ioErr(path string, err error) error {
	var je *javaError
	if errors.As(err, &je) {
		return err
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return jerr("java.nio.file.NoSuchFileException", "%s", path)
	case errors.Is(err, os.ErrPermission):
		return jerr("java.nio.file.AccessDeniedException", "%s", path)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return jerr("java.io.IOException", "%s", capitalize(pe.Err.Error()))
	}
	return jerr("java.io.IOException", "%s", err.Error())
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// javaString is new String(bytes, UTF_8): each maximal ill-formed subsequence
// becomes one U+FFFD, as Java's decoder (and the Unicode recommendation) do.
func javaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			sb.WriteByte(c)
			i++
			continue
		}
		n, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			n = 2
		case c == 0xE0:
			n, lo = 3, 0xA0
		case c == 0xED:
			n, hi = 3, 0x9F
		case c >= 0xE1 && c <= 0xEF:
			n = 3
		case c == 0xF0:
			n, lo = 4, 0x90
		case c >= 0xF1 && c <= 0xF3:
			n = 4
		case c == 0xF4:
			n, hi = 4, 0x8F
		default:
			sb.WriteRune(utf8.RuneError)
			i++
			continue
		}
		j := 1
		for ; j < n; j++ {
			if i+j >= len(b) {
				break
			}
			x := b[i+j]
			if j == 1 {
				if x < lo || x > hi {
					break
				}
			} else if x < 0x80 || x > 0xBF {
				break
			}
		}
		if j < n {
			sb.WriteRune(utf8.RuneError)
			i += j
			continue
		}
		sb.Write(b[i : i+n])
		i += n
	}
	return sb.String()
}
