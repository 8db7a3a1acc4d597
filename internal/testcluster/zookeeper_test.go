package testcluster

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestZooKeeperStartStopRestart(t *testing.T) {
	z := StartZooKeeper(t)
	if out, err := z.FourLetter("ruok"); err != nil || out != "imok" {
		t.Fatalf("ruok = %q, %v", out, err)
	}
	if out, err := z.FourLetter("srvr"); err != nil || !strings.Contains(out, "Mode: standalone") {
		t.Fatalf("srvr = %q, %v", out, err)
	}
	c := Dial(t, z.Addr())
	if err := c.Create("/a/b", []byte("persisted"), false); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("/eph", nil, true); err != nil {
		t.Fatal(err)
	}
	if eph, err := c.IsEphemeral("/eph"); err != nil || !eph {
		t.Fatalf("/eph ephemeral = %v, %v", eph, err)
	}
	if eph, err := c.IsEphemeral("/a/b"); err != nil || eph {
		t.Fatalf("/a/b ephemeral = %v, %v", eph, err)
	}
	c.Close()

	if err := z.Stop(); err != nil {
		t.Fatal(err)
	}
	if z.Process().Running() {
		t.Fatal("ZooKeeper still running after Stop")
	}
	if _, err := z.FourLetter("ruok"); err == nil {
		t.Fatal("ZooKeeper still answers after Stop")
	}

	if err := z.Restart(); err != nil {
		t.Fatal(err)
	}
	c = Dial(t, z.Addr())
	data, _, err := c.Get("/a/b")
	if err != nil || string(data) != "persisted" {
		t.Fatalf("after restart /a/b = %q, %v", data, err)
	}
	if ok, _, err := c.Exists("/eph"); err != nil || ok {
		t.Fatalf("after restart the closed session's /eph exists = %v, %v", ok, err)
	}
}

func TestSharedZooKeeperChrootIsolation(t *testing.T) {
	z1, z2 := SharedZooKeeper(t), SharedZooKeeper(t)
	if z1 != z2 {
		t.Fatal("SharedZooKeeper started two servers")
	}
	a, b := Chroot(t), Chroot(t)
	if a == b {
		t.Fatalf("two chroots are the same: %q", a)
	}
	for _, c := range []string{a, b} {
		if !strings.HasPrefix(c, z1.Addr()+"/kbroker-test-") {
			t.Fatalf("chroot connect string %q", c)
		}
	}
	ca, cb := Dial(t, a), Dial(t, b)
	if err := ca.Create("/brokers/ids/1", []byte("in a"), true); err != nil {
		t.Fatal(err)
	}
	if err := cb.Create("/brokers/ids/1", []byte("in b"), true); err != nil {
		t.Fatal(err)
	}
	if err := cb.Create("/brokers/ids/2", []byte("only b"), true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    *ZKClient
		want string
		ids  []string
	}{{ca, "in a", []string{"1"}}, {cb, "in b", []string{"1", "2"}}} {
		data, _, err := tc.c.Get("/brokers/ids/1")
		if err != nil || string(data) != tc.want {
			t.Errorf("%s/brokers/ids/1 = %q, %v; want %q", tc.c.Chroot(), data, err, tc.want)
		}
		ids, err := tc.c.Children("/brokers/ids")
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, tc.ids) {
			t.Errorf("%s/brokers/ids children = %v, %v; want %v", tc.c.Chroot(), ids, err, tc.ids)
		}
	}
	// The chroot is a real prefix on the server: a root client sees it.
	root := Dial(t, z1.Addr())
	data, _, err := root.Get(ca.Chroot() + "/brokers/ids/1")
	if err != nil || string(data) != "in a" {
		t.Fatalf("absolute path %s/brokers/ids/1 = %q, %v", ca.Chroot(), data, err)
	}
	if _, _, err := root.Get("/brokers/ids/1"); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("a chrooted write leaked to the root: %v", err)
	}
	if err := ca.DeleteAll("/"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := root.Exists(ca.Chroot()); ok {
		t.Fatal("DeleteAll(/) left the chroot")
	}
	if ok, _, _ := root.Exists(cb.Chroot() + "/brokers/ids/2"); !ok {
		t.Fatal("DeleteAll in one chroot touched another")
	}
}

func TestZooKeeperMissingJava(t *testing.T) {
	t.Setenv("KBROKER_TEST_JAVA", "/nonexistent/java")
	if _, _, err := zkClasspath(); err == nil || !strings.Contains(err.Error(), "/nonexistent/java") {
		t.Fatalf("zkClasspath with a missing java: %v", err)
	}
	t.Setenv("KBROKER_TEST_JAVA", "")
	t.Setenv("JAVA_HOME", "")
	t.Setenv("PATH", t.TempDir())
	_, _, err := zkClasspath()
	if err == nil || !strings.Contains(err.Error(), "apt-get install zookeeper") {
		t.Fatalf("zkClasspath without java on PATH: %v", err)
	}
}
