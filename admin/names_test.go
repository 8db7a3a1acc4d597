package admin

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestTopicNameValid(t *testing.T) {
	for _, name := range []string{"valid", "TOPIC", "nAmEs", "ar6", "VaL1d", "_0-9_.", "...", strings.Repeat("x", 249),
		ConsumerOffsetsTopic, TransactionStateTopic} {
		if err := ValidateTopicName(name); err != nil || !IsValidTopicName(name) {
			t.Fatalf("%q: %v", name, err)
		}
	}
}

func TestTopicNameInvalid(t *testing.T) {
	long := strings.Repeat("a", 250)
	cases := []struct{ name, msg string }{
		{"", "Topic name is invalid: the empty string is not allowed"},
		{".", "Topic name is invalid: '.' is not allowed"},
		{"..", "Topic name is invalid: '..' is not allowed"},
		{long, "Topic name is invalid: the length of '" + long + "' is longer than the max allowed length 249"},
		{"foo bar", "Topic name is invalid: 'foo bar' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"},
		{"foo:bar", "Topic name is invalid: 'foo:bar' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"},
		{"foo=bar", "Topic name is invalid: 'foo=bar' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"},
		{"tøpic", "Topic name is invalid: 'tøpic' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"},
		{"a/b", "Topic name is invalid: 'a/b' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"},
	}
	for _, c := range cases {
		if IsValidTopicName(c.name) {
			t.Fatalf("%q accepted", c.name)
		}
		expectErr(t, ValidateTopicName(c.name), kerr.InvalidTopicException, c.msg)
	}
}

func TestTopicNameLengthCountsUTF16Units(t *testing.T) {
	// Java counts UTF-16 code units: 200 two-byte characters are 200 long
	// (a character error, not a length error); 125 astral characters are
	// 250 long.
	two := strings.Repeat("é", 200)
	if p := TopicNameProblem(two); !strings.Contains(p, "contains one or more characters") {
		t.Fatalf("200 × é: %q", p)
	}
	astral := strings.Repeat("😀", 125)
	if p := TopicNameProblem(astral); !strings.Contains(p, "longer than the max allowed length 249") {
		t.Fatalf("125 × astral: %q", p)
	}
}

func TestInternalTopics(t *testing.T) {
	if !IsInternalTopic("__consumer_offsets") || !IsInternalTopic("__transaction_state") {
		t.Fatal("internal topics not recognised")
	}
	for _, n := range []string{"__cluster_metadata", "_consumer_offsets", "consumer_offsets", ""} {
		if IsInternalTopic(n) {
			t.Fatalf("%q reported internal", n)
		}
	}
}

func TestCollisionChars(t *testing.T) {
	for _, n := range []string{".start", "end.", "mid.dle", ".ma.ny.", "_start", "end_", "mid_dle", "_ma_ny."} {
		if !HasCollisionChars(n) {
			t.Fatalf("%q has collision chars", n)
		}
	}
	for _, n := range []string{"start", "end", "middle", "many", "a-b"} {
		if HasCollisionChars(n) {
			t.Fatalf("%q has none", n)
		}
	}
	if got := UnifyCollisionChars("a.b_c.d"); got != "a_b_c_d" {
		t.Fatalf("unify: %q", got)
	}
	if !HasCollision("topic.name", "topic_name") || !HasCollision("a.b", "a.b") || HasCollision("a.b", "ab_") {
		t.Fatal("HasCollision")
	}
}

func TestCheckCollision(t *testing.T) {
	all := []string{"other", "test.topic", "x_y"}
	expectErr(t, CheckCollision("test_topic", all), kerr.InvalidTopicException,
		"Topic 'test_topic' collides with existing topics: test.topic")
	expectErr(t, CheckCollision("x.y", []string{"x_y", "x.y"}), kerr.TopicAlreadyExists,
		"Topic 'x.y' already exists.")
	expectErr(t, CheckCollision("a.b", []string{"a_b", "c", "a.b"}), kerr.TopicAlreadyExists,
		"Topic 'a.b' already exists.")
	expectErr(t, CheckCollision("a.b_c", []string{"a_b.c", "a.b.c", "abc"}), kerr.InvalidTopicException,
		"Topic 'a.b_c' collides with existing topics: a_b.c, a.b.c")
	// Names without '.' or '_' are not checked at all.
	if err := CheckCollision("plain", []string{"plain"}); err != nil {
		t.Fatal(err)
	}
	if err := CheckCollision("new.topic", all); err != nil {
		t.Fatal(err)
	}
}
