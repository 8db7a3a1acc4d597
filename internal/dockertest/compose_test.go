package dockertest

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/config"
	"github.com/kbroker/kbroker/internal/testcluster"
	"github.com/kbroker/kbroker/model"
)

var brokerServices = []string{"kbroker-1", "kbroker-2", "kbroker-3"}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	var names []string
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := append([]string{}, append(brokerServices, "zookeeper")...); !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}

	zk := c.Services["zookeeper"]
	if !strings.HasPrefix(zk.Image, "zookeeper:3.") || zk.Build != nil {
		t.Errorf("zookeeper: image %q build %v; want the official zookeeper:3.x image", zk.Image, zk.Build)
	}
	if !slices.Contains(zk.Ports, "2181:2181") {
		t.Errorf("zookeeper ports %v: 2181 should be published for zkCli and PrettyZoo", zk.Ports)
	}
	if zk.Healthcheck == nil || !strings.Contains(strings.Join(zk.Healthcheck.Test, " "), "srvr") {
		t.Errorf("zookeeper healthcheck %+v: the brokers wait for it", zk.Healthcheck)
	}
	// The healthcheck's four-letter word must be allowed.
	if wl := zk.Environment["ZOO_4LW_COMMANDS_WHITELIST"]; !slices.Contains(strings.Split(wl, ","), "srvr") {
		t.Errorf("ZOO_4LW_COMMANDS_WHITELIST %q lacks srvr", wl)
	}
	checkVolumes(t, c, "zookeeper", zk)

	root := repoRoot(t)
	image := ""
	for _, name := range brokerServices {
		s := c.Services[name]
		if s.Build == nil {
			t.Errorf("%s: not built from the Dockerfile", name)
			continue
		}
		ctx := filepath.Join(root, s.Build.Context)
		df := s.Build.Dockerfile
		if df == "" {
			df = "Dockerfile"
		}
		if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
			t.Errorf("%s: build %+v: %v", name, *s.Build, err)
		}
		if image == "" {
			image = s.Image
		}
		if s.Image == "" || s.Image != image {
			t.Errorf("%s: image %q; the brokers share one image tag (%q)", name, s.Image, image)
		}
		if d, ok := s.DependsOn["zookeeper"]; !ok || d.Condition != "service_healthy" {
			t.Errorf("%s: depends_on %+v, want zookeeper: service_healthy", name, s.DependsOn)
		}
		if s.Healthcheck == nil {
			t.Errorf("%s: no healthcheck", name)
		}
		if s.StopGracePeriod == "" {
			t.Errorf("%s: no stop_grace_period: Docker's 10 s default may cut an orderly shutdown", name)
		}
		checkVolumes(t, c, name, s)
	}
}

// checkVolumes: every named volume a service mounts is declared.
func checkVolumes(t *testing.T, c compose, name string, s service) {
	t.Helper()
	if len(s.Volumes) == 0 {
		t.Errorf("%s: no volumes: its data would not outlive the container", name)
	}
	for _, v := range s.Volumes {
		src, target, ok := strings.Cut(v, ":")
		if !ok || !strings.HasPrefix(target, "/") {
			t.Errorf("%s: volume %q is not source:/target", name, v)
			continue
		}
		if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
			continue // a bind mount
		}
		if _, declared := c.Volumes[src]; !declared {
			t.Errorf("%s: volume %q is not declared under volumes:", name, src)
		}
	}
}

// TestComposeBrokerSettings loads each broker's configuration as the
// container would (docker/server.properties plus the service's KBROKER_
// environment) with the real config package, and checks what it resolves
// to against the service's ports, volumes and dependencies.
func TestComposeBrokerSettings(t *testing.T) {
	c := loadCompose(t)
	file := filepath.Join(repoRoot(t), "docker", "server.properties")
	// The test's own KBROKER_ variables must not mix in (empty = unset).
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix) {
			t.Setenv(k, "")
		}
	}

	ids := map[int32]string{}
	hostPorts := map[string]string{}
	for _, name := range brokerServices {
		s := c.Services[name]
		for k, v := range s.Environment {
			if !strings.HasPrefix(k, config.EnvPrefix) {
				t.Errorf("%s: environment %s is not a kbroker setting (KBROKER_<NAME>)", name, k)
			}
			t.Setenv(k, v)
		}
		cfg, err := config.Load(config.Options{File: file, Hostname: func() (string, error) { return name, nil }})
		for k := range s.Environment {
			t.Setenv(k, "")
		}
		if err != nil {
			t.Fatalf("%s: kbroker would refuse this configuration: %v", name, err)
		}
		for k := range s.Environment {
			setting := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, config.EnvPrefix), "_", "."))
			if got := cfg.Origin(setting); got != "environment variable "+k {
				t.Errorf("%s: %s comes from %q, not from %s", name, setting, got, k)
			}
		}

		if other, dup := ids[cfg.BrokerID]; dup || cfg.BrokerID < 0 {
			t.Errorf("%s: broker.id %d (unset, or shared with %s)", name, cfg.BrokerID, other)
		}
		ids[cfg.BrokerID] = name

		find := func(eps []model.Endpoint, listener string) (model.Endpoint, bool) {
			for _, e := range eps {
				if e.Listener == listener {
					return e, true
				}
			}
			return model.Endpoint{}, false
		}
		if cfg.InterBrokerListenerName != "INTERNAL" {
			t.Errorf("%s: inter-broker listener %q, want INTERNAL", name, cfg.InterBrokerListenerName)
		}
		internal, ok1 := find(cfg.Listeners, "INTERNAL")
		advInternal, ok2 := find(cfg.AdvertisedListeners, "INTERNAL")
		ext, ok3 := find(cfg.Listeners, "EXTERNAL")
		advExt, ok4 := find(cfg.AdvertisedListeners, "EXTERNAL")
		if !ok1 || !ok2 || !ok3 || !ok4 {
			t.Fatalf("%s: want INTERNAL and EXTERNAL listeners, both advertised: %+v / %+v", name, cfg.Listeners, cfg.AdvertisedListeners)
		}
		for _, l := range cfg.Listeners {
			if l.Host != "0.0.0.0" && l.Host != "" {
				t.Errorf("%s: listener %s binds %q: other containers and the published port need 0.0.0.0", name, l.Listener, l.Host)
			}
		}
		// Other containers reach the broker by its service name.
		if advInternal.Host != name || advInternal.Port != internal.Port {
			t.Errorf("%s: INTERNAL advertised as %s:%d, want %s:%d", name, advInternal.Host, advInternal.Port, name, internal.Port)
		}
		// The host reaches it on localhost through the published port, which
		// must be the advertised one and lead to the EXTERNAL listener.
		if advExt.Host != "localhost" {
			t.Errorf("%s: EXTERNAL advertised host %q, want localhost", name, advExt.Host)
		}
		published := false
		for _, p := range s.Ports {
			hp, cp, ok := strings.Cut(p, ":")
			if !ok {
				t.Errorf("%s: port %q is not host:container", name, p)
				continue
			}
			if other, dup := hostPorts[hp]; dup {
				t.Errorf("%s and %s both publish host port %s", other, name, hp)
			}
			hostPorts[hp] = name
			if cp == strconv.Itoa(int(ext.Port)) && hp == strconv.Itoa(int(advExt.Port)) {
				published = true
			}
		}
		if !published {
			t.Errorf("%s: EXTERNAL listener port %d is not published as the advertised host port %d (ports %v)", name, ext.Port, advExt.Port, s.Ports)
		}
		// The healthcheck dials the INTERNAL port.
		if hc := strings.Join(s.Healthcheck.Test, " "); !strings.Contains(hc, "/"+strconv.Itoa(int(internal.Port))) {
			t.Errorf("%s: healthcheck %q does not dial the INTERNAL port %d", name, hc, internal.Port)
		}

		servers, _, err := testcluster.SplitConnect(cfg.ZooKeeperConnect)
		if err != nil || len(servers) != 1 || servers[0] != "zookeeper:2181" {
			t.Errorf("%s: zookeeper.connect %q, want the zookeeper service", name, cfg.ZooKeeperConnect)
		}
		if _, ok := s.DependsOn["zookeeper"]; !ok {
			t.Errorf("%s: does not depend on zookeeper", name)
		}

		// Every log directory lives in one of the service's volumes.
		for _, d := range cfg.LogDirs {
			inVolume := false
			for _, v := range s.Volumes {
				_, target, _ := strings.Cut(v, ":")
				if d == target || strings.HasPrefix(d, strings.TrimRight(target, "/")+"/") {
					inVolume = true
				}
			}
			if !inVolume {
				t.Errorf("%s: log directory %q is not in a volume (%v)", name, d, s.Volumes)
			}
		}
	}
	if got, want := sortedKeys(hostPorts), []string{"9092", "9093", "9094"}; !slices.Equal(got, want) {
		t.Errorf("published broker ports %v, want %v", got, want)
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
