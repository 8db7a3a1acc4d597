package testcluster

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPropertiesRoundTrip(t *testing.T) {
	in := map[string]string{
		"broker.id":         "3",
		"listeners":         "PLAINTEXT://127.0.0.1:9092,INTERNAL://[::1]:9093",
		"log.dirs":          `/tmp/a b,C:\data`,
		"odd key=with:seps": " leading space and\nnewline",
		"empty":             "",
	}
	path := filepath.Join(t.TempDir(), "server.properties")
	if err := WriteProperties(path, in); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := ReadProperties(f)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(in, out) {
		t.Errorf("round trip:\n got %q\nwant %q", out, in)
	}
}

func TestReadPropertiesJavaSyntax(t *testing.T) {
	src := "# comment\n! also a comment\n\n  a=1\nb : 2\nc 3\nlong=x,\\\n    y\nesc=\\#not\\=comment\n"
	got, err := ReadProperties(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "b": "2", "c": "3", "long": "x,y", "esc": "#not=comment"}
	if !maps.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseListeners(t *testing.T) {
	ls, err := ParseListeners("plaintext://127.0.0.1:9092, EXTERNAL://:0,IPV6://[::1]:19092")
	if err != nil {
		t.Fatal(err)
	}
	want := []Listener{{"PLAINTEXT", "127.0.0.1", 9092}, {"EXTERNAL", "", 0}, {"IPV6", "::1", 19092}}
	if !reflect.DeepEqual(ls, want) {
		t.Fatalf("got %+v, want %+v", ls, want)
	}
	if got := FormatListeners(ls); got != "PLAINTEXT://127.0.0.1:9092,EXTERNAL://:0,IPV6://[::1]:19092" {
		t.Errorf("FormatListeners = %q", got)
	}
	if got := ls[1].DialAddr(); got != "127.0.0.1:0" {
		t.Errorf("wildcard DialAddr = %q", got)
	}
	for _, bad := range []string{"", "127.0.0.1:9092", "PLAINTEXT://host", "X://h:99999"} {
		if _, err := ParseListeners(bad); err == nil {
			t.Errorf("ParseListeners(%q) accepted", bad)
		}
	}
}

func TestSplitConnect(t *testing.T) {
	cases := []struct {
		in      string
		servers []string
		chroot  string
	}{
		{"127.0.0.1:2181", []string{"127.0.0.1:2181"}, ""},
		{"a:1,b:2/kafka/x", []string{"a:1", "b:2"}, "/kafka/x"},
		{"zk/", []string{"zk:2181"}, ""},
	}
	for _, c := range cases {
		servers, chroot, err := SplitConnect(c.in)
		if err != nil || !reflect.DeepEqual(servers, c.servers) || chroot != c.chroot {
			t.Errorf("SplitConnect(%q) = %v %q %v, want %v %q", c.in, servers, chroot, err, c.servers, c.chroot)
		}
	}
	if _, _, err := SplitConnect("/chroot"); err == nil {
		t.Error("connect string without servers accepted")
	}
}

func TestTailLines(t *testing.T) {
	if got := tailLines([]byte("a\nb\nc\n"), 2); got != "b\nc" {
		t.Errorf("tail 2 = %q", got)
	}
	if got := tailLines([]byte("a\nb\n"), 5); got != "a\nb" {
		t.Errorf("tail 5 = %q", got)
	}
	if got := tailLines([]byte("a\nb"), 0); got != "a\nb" {
		t.Errorf("tail 0 = %q", got)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 5; i++ {
		ports, err := FreePorts(4)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ports {
			if seen[p] {
				t.Fatalf("port %d handed out twice", p)
			}
			seen[p] = true
		}
	}
}
