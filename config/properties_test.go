package config

import (
	"reflect"
	"testing"
)

func TestParsePropertiesSyntax(t *testing.T) {
	text := "# comment\n" +
		"! also a comment\n" +
		"   \n" +
		"a=1\n" +
		"b = 2 \n" +
		"c:3\n" +
		"d : 4\n" +
		"e 5\n" +
		"f\t=\t6\n" +
		"  g=leading blanks on the line are dropped\n" +
		"h=one,\\\n" +
		"    two,\\\n" +
		"    three\n" +
		"i=tab\\there\\nnewline\n" +
		"j=\\u0041\\u00e9\n" +
		"k\\=x=escaped separator in key\n" +
		"l\\ m=escaped blank in key\n" +
		"empty=\n" +
		"novalue\n" +
		"eq==starts with equals\n" +
		"# comment ending in backslash \\\n" +
		"n=after comment\r\n" +
		"o=crlf\r" +
		"p=cr only\n" +
		"q=path\\\\\n" +
		"r=last wins\n" +
		"r=really last\n" +
		"s=# not a comment\n" +
		"t=ends with lone backslash\\"

	props, err := parseProperties(text)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var order []string
	for _, p := range props {
		got[p.Key] = p.Value
		order = append(order, p.Key)
	}
	want := map[string]string{
		"a": "1", "b": "2 ", "c": "3", "d": "4", "e": "5", "f": "6",
		"g":     "leading blanks on the line are dropped",
		"h":     "one,two,three",
		"i":     "tab\there\nnewline",
		"j":     "Aé",
		"k=x":   "escaped separator in key",
		"l m":   "escaped blank in key",
		"empty": "", "novalue": "", "eq": "=starts with equals",
		"n": "after comment", "o": "crlf", "p": "cr only", "q": `path\`,
		"r": "really last", "s": "# not a comment", "t": "ends with lone backslash",
	}
	if !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%q = %q, want %q", k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected key %q", k)
			}
		}
	}
	// A repeated key keeps its first position.
	if order[len(order)-3] != "r" {
		t.Errorf("order = %v", order)
	}
}

func TestParsePropertiesLineNumbers(t *testing.T) {
	props, err := parseProperties("# c\n\na=1\nb=x,\\\n  y\nc=3\n")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, p := range props {
		lines[p.Key] = p.Line
	}
	if want := map[string]int{"a": 3, "b": 4, "c": 6}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines = %v, want %v", lines, want)
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	for _, text := range []string{"a=\\u12\n", "a=\\uzzzz\n", "a=\xff\n"} {
		if _, err := parseProperties(text); err == nil {
			t.Errorf("parseProperties(%q) succeeded", text)
		}
	}
}
