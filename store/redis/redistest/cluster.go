package redistest

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// StartCluster starts a Redis Cluster of n primaries (no replicas) on free
// ports, waits until every node reports cluster_state:ok, and stops it when
// the test ends.
func StartCluster(t testing.TB, n int) *Target {
	t.Helper()
	cli := Binary(t, "redis-cli")
	nodes := make([]*Server, n)
	addrs := make([]string, n)
	for i := range nodes {
		// The cluster bus gets a free port of its own: port+10000, the
		// default, may be out of range or taken.
		bus := FreePort(t)
		nodes[i] = Start(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		addrs[i] = nodes[i].Addr()
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		waitClusterOK(t, a)
	}
	return &Target{URL: "redis://" + addrs[0], Addrs: addrs[1:], Nodes: nodes}
}

func waitClusterOK(t testing.TB, addr string) {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, ForceSingleClient: true, DisableCache: true})
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	var info string
	for time.Now().Before(deadline) {
		info, err = c.Do(context.Background(), c.B().ClusterInfo().Build()).ToString()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("cluster node %s not ok: %v\n%s", addr, err, info)
}
